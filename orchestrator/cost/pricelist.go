package cost

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Price List API service codes the table is built from.
const (
	ServiceLambda       = "AWSLambda"
	ServiceSQS          = "AmazonSQS"
	ServiceS3           = "AmazonS3"
	ServiceDataTransfer = "AWSDataTransfer"
	ServiceCloudWatch   = "AmazonCloudWatch"
)

// PriceListServices returns the service codes ApplyPriceList understands.
func PriceListServices() []string {
	return []string{ServiceLambda, ServiceSQS, ServiceS3, ServiceDataTransfer, ServiceCloudWatch}
}

// priceItem is the part of one GetProducts PriceList entry that we read.
type priceItem struct {
	ServiceCode string `json:"serviceCode"`
	Product     struct {
		ProductFamily string            `json:"productFamily"`
		Attributes    map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]struct {
			PriceDimensions map[string]struct {
				Unit         string            `json:"unit"`
				BeginRange   string            `json:"beginRange"`
				PricePerUnit map[string]string `json:"pricePerUnit"`
			} `json:"priceDimensions"`
		} `json:"OnDemand"`
	} `json:"terms"`
}

// ApplyPriceList sets the prices that the Price List API's GetProducts
// entries (items: each one JSON document, as PriceList returns them) give,
// in p's regions and in any region they name (a new region starts from
// p's default region's prices). An entry that is not one of the priced
// items is skipped. The price taken is the first non-zero on-demand tier
// (the free tier skipped). It returns the prices set ("us-east-1
// lambda_gb_second_arm64_usd", sorted).
func ApplyPriceList(p *Prices, items []string) ([]string, error) {
	set := map[string]bool{}
	for i, raw := range items {
		var it priceItem
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			return nil, fmt.Errorf("price list entry %d: %w", i, err)
		}
		attr := it.Product.Attributes
		region := attr["regionCode"]
		if it.ServiceCode == ServiceDataTransfer {
			region = attr["fromRegionCode"]
		}
		field, scale := classify(it.ServiceCode, attr)
		if field == "" || region == "" {
			continue
		}
		price, ok := firstPaidTier(&it)
		if !ok {
			continue
		}
		r, ok := p.Regions[region]
		if !ok {
			r, _ = p.Region(region)
			r.Note = "from the Price List API; items it did not give are " + p.DefaultRegion + "'s"
		}
		setField(&r, field, price*scale)
		if p.Regions == nil {
			p.Regions = map[string]RegionPrices{}
		}
		p.Regions[region] = r
		set[region+" "+field] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// classify names the RegionPrices field (its JSON name) an entry prices
// and the factor from the entry's unit to the field's.
func classify(service string, a map[string]string) (string, float64) {
	group, usage := a["group"], a["usagetype"]
	switch service {
	case ServiceLambda:
		switch group {
		case "AWS-Lambda-Duration-ARM":
			return "lambda_gb_second_arm64_usd", 1
		case "AWS-Lambda-Duration":
			return "lambda_gb_second_x86_64_usd", 1
		case "AWS-Lambda-Requests":
			return "lambda_requests_per_million_usd", 1e6
		}
	case ServiceSQS:
		if a["queueType"] == "Standard" && strings.Contains(usage, "Requests-Tier1") {
			return "sqs_requests_per_million_usd", 1e6
		}
	case ServiceS3:
		if a["storageClass"] != "" && a["storageClass"] != "General Purpose" {
			return "", 0
		}
		switch group {
		case "S3-API-Tier1":
			return "s3_put_list_per_thousand_usd", 1e3
		case "S3-API-Tier2":
			return "s3_get_per_thousand_usd", 1e3
		}
	case ServiceDataTransfer:
		if a["transferType"] == "AWS Outbound" && a["toLocation"] == "External" {
			return "data_out_per_gb_usd", 1
		}
	case ServiceCloudWatch:
		if group == "Ingested Logs" || strings.HasSuffix(usage, "DataProcessing-Bytes") {
			return "logs_ingest_per_gb_usd", 1
		}
	}
	return "", 0
}

// firstPaidTier returns the USD price of the lowest-starting tier with a
// non-zero price.
func firstPaidTier(it *priceItem) (float64, bool) {
	best, bestBegin, found := 0.0, 0.0, false
	for _, term := range it.Terms.OnDemand {
		for _, d := range term.PriceDimensions {
			price, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
			if err != nil || price <= 0 {
				continue
			}
			begin, err := strconv.ParseFloat(d.BeginRange, 64)
			if err != nil {
				begin = 0
			}
			if !found || begin < bestBegin {
				best, bestBegin, found = price, begin, true
			}
		}
	}
	return best, found
}

func setField(r *RegionPrices, field string, v float64) {
	switch field {
	case "lambda_gb_second_arm64_usd":
		r.LambdaGBSecondARM64USD = v
	case "lambda_gb_second_x86_64_usd":
		r.LambdaGBSecondX86USD = v
	case "lambda_requests_per_million_usd":
		r.LambdaPerMillionUSD = v
	case "sqs_requests_per_million_usd":
		r.SQSPerMillionUSD = v
	case "s3_put_list_per_thousand_usd":
		r.S3PutListPerThousand = v
	case "s3_get_per_thousand_usd":
		r.S3GetPerThousandUSD = v
	case "data_out_per_gb_usd":
		r.DataOutPerGBUSD = v
	case "logs_ingest_per_gb_usd":
		r.LogsIngestPerGBUSD = v
	}
}

// Marshal returns p as indented JSON (the format of prices.json).
func (p *Prices) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode prices: %w", err)
	}
	return append(b, '\n'), nil
}
