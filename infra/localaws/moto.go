package localaws

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// motoStartTimeout bounds moto_server's start (it imports a lot of Python).
const motoStartTimeout = 60 * time.Second

// StartMoto runs moto_server (CloudFormation, SQS, S3, STS, Lambda's
// control plane and more in one process) on a free loopback port until the
// test ends and returns its URL. A missing moto_server fails the test: it
// is part of the machine (see shared/LOCAL-AWS.md).
func StartMoto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatal("localaws: moto_server not found on PATH: install it with `pip install 'moto[server]'`")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("localaws: start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its own process group: only what it started
		_ = cmd.Wait()
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(motoStartTimeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return base
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("localaws: moto_server did not answer on %s in %v:\n%s", base, motoStartTimeout, strings.TrimSpace(logs.String()))
	return ""
}

// stackTimeout bounds a stack's creation in moto.
const stackTimeout = 60 * time.Second

// CreateStack creates stack from the template body through client (its
// region is the stack's) and waits until it is complete; it returns the
// stack's outputs.
func CreateStack(t testing.TB, client *cloudformation.Client, stack, body string) map[string]string {
	t.Helper()
	ctx := context.Background()
	if _, err := client.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(stack),
		TemplateBody: aws.String(body),
		Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityIam},
	}); err != nil {
		t.Fatalf("localaws: create stack %s: %v", stack, err)
	}
	w := cloudformation.NewStackCreateCompleteWaiter(client, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	out, err := w.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, stackTimeout)
	if err != nil {
		t.Fatalf("localaws: stack %s: %v", stack, err)
	}
	outputs := map[string]string{}
	for _, s := range out.Stacks {
		for _, o := range s.Outputs {
			outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
	}
	return outputs
}
