"""LocalStack extensions that make host mode (LocalStack without Docker) complete and offline.

* ``host-process`` Lambda runtime executor: every execution environment is a local OS process
  running the AWS Lambda Runtime Interface Client against a Runtime API served by LocalStack, on
  this machine's Python of the function's version (``python -m localstack_hostmode.runtimes``
  installs the runtime directories).
* ``dynamodb:moto`` provider: DynamoDB served by LocalStack's bundled moto instead of a
  downloaded DynamoDB Local and Java runtime.
"""
