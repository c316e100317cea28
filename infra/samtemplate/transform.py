"""Transform a SAM template into plain CloudFormation JSON on stdout.

Usage: python3 transform.py TEMPLATE  (or: python3 - TEMPLATE < transform.py)

Uses the installed aws-sam-translator offline: no AWS credentials, no network.
Exit status 1 with the translator's message on stderr if the template is invalid.
"""
import json
import os
import sys

import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.model.exceptions import InvalidDocumentException


class NoManagedPolicies(ManagedPolicyLoader):
    """Loader that never calls IAM: the template must use no managed policies."""

    def __init__(self):
        pass

    def load(self):
        return {}


def cfn_loader():
    """A YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub...)."""

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, tag_suffix, node):
        name = "Ref" if tag_suffix == "Ref" else "Fn::" + tag_suffix
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag_suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return Loader


def package(sam):
    """Do what `sam deploy` does before the transform: a local CodeUri becomes
    the S3 object it is uploaded to (here a placeholder)."""
    for res in sam.get("Resources", {}).values():
        props = res.get("Properties", {})
        uri = props.get("CodeUri")
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(uri, str) and not uri.startswith("s3://"):
            props["CodeUri"] = "s3://sam-deploy-artifacts/" + uri.strip("/") + ".zip"


def main():
    # The translator needs a region for its pseudo-parameters; any will do.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(sys.argv[1]) as f:
        sam = yaml.load(f, Loader=cfn_loader())
    package(sam)
    try:
        cfn = transform(sam, {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(cause.message, file=sys.stderr)
        sys.exit(1)
    json.dump(cfn, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
