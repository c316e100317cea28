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

	"github.com/stampede-load/stampede/internal/syncbuf"
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
	var logs syncbuf.Buffer
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

// GeneratorStack is a minimal stand-in for template.yaml that moto can
// create (it cannot run the SAM transform): the task queue, the burst
// queue, the results bucket (all named by CloudFormation) and the function,
// with template.yaml's output names. functionProps are extra properties of
// the function, one YAML line ("ReservedConcurrentExecutions: 0"), or "".
// moto's Lambda keeps the function but cannot run it (no Docker): the
// tests run the code under the Lambda stand-in (lambdaharness) instead.
func GeneratorStack(functionProps string) string {
	return strings.Replace(generatorStack, "FUNCTION_PROPS", functionProps, 1)
}

const generatorStack = `
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  TaskQueue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 960}
  BurstQueue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 960}
  ResultsBucket:
    Type: AWS::S3::Bucket
  GeneratorFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub ${AWS::StackName}-generator
      Runtime: provided.al2023
      Handler: bootstrap
      Role: !GetAtt Role.Arn
      FUNCTION_PROPS
      Code: {ZipFile: "not run by moto"}
Outputs:
  QueueUrl: {Value: !Ref TaskQueue}
  BurstQueueUrl: {Value: !Ref BurstQueue}
  BucketName: {Value: !Ref ResultsBucket}
  FunctionName: {Value: !Ref GeneratorFunction}
  FunctionArn: {Value: !GetAtt GeneratorFunction.Arn}
`
