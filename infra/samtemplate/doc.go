// Package samtemplate checks the project's AWS SAM template (template.yaml at
// the repository root): it runs cfn-lint on it, turns it into plain
// CloudFormation with the installed aws-sam-translator (transform.py, run by
// python3), and checks the result for what the generator stack must
// guarantee: least privilege for the function, a private TLS-only bucket,
// no asynchronous retries, one task per invocation, a visibility timeout
// above the function timeout. Its tests also check the CLI user's policy,
// infra/iam/stampede-cli-policy.json.
//
// It needs cfn-lint and python3 with aws-sam-translator on PATH (both come
// with `pip install cfn-lint`); it never talks to AWS. It must not import the
// AWS SDK or any other stampede package.
package samtemplate
