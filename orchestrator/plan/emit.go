package plan

import (
	"strconv"
	"strings"
	"time"

	"github.com/stampede-load/stampede/engine"
	"gopkg.in/yaml.v3"
)

// Builders of the YAML nodes Marshal writes. Scalars carry explicit tags,
// so that the encoder quotes a string that would otherwise read back as
// another type ("20", "true", "null").

// mapBuilder collects a mapping's pairs in order.
type mapBuilder struct{ content []*yaml.Node }

func (m *mapBuilder) add(key string, v *yaml.Node) { m.content = append(m.content, strN(key), v) }

func (m *mapBuilder) node() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: m.content}
}

func (m *mapBuilder) flow() *yaml.Node {
	n := m.node()
	n.Style = yaml.FlowStyle
	return n
}

func kvNode(kvs []engine.KV) *yaml.Node {
	m := &mapBuilder{}
	for _, kv := range kvs {
		m.add(kv.Name, strN(kv.Value))
	}
	return m.node()
}

func strN(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagStr, Value: s} }

func strNs(ss []string) []*yaml.Node {
	out := make([]*yaml.Node, len(ss))
	for i, s := range ss {
		out[i] = strN(s)
	}
	return out
}

func intN(i int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: strconv.FormatInt(i, 10)}
}

// floatN writes f as YAML reads it back: integral values as integers,
// others as floats.
func floatN(f float64) *yaml.Node {
	s := formatNumber(f)
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagInt, Value: s}
	}
	if !strings.ContainsAny(s, ".eEIN") {
		s += ".0"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagFloat, Value: s}
}

func boolN(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagBool, Value: strconv.FormatBool(b)}
}

func durN(d time.Duration) *yaml.Node { return strN(formatDuration(d)) }

func seqN(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

func flowSeq(items ...*yaml.Node) *yaml.Node {
	n := seqN(items...)
	n.Style = yaml.FlowStyle
	return n
}
