"""Entry points registered with LocalStack's plugin system (see pyproject.toml)."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.plugins import Service, aws_provider


class HostProcessExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with ``LAMBDA_RUNTIME_EXECUTOR=host-process``."""

    name = "host-process"

    def load(self, *args, **kwargs):
        from localstack_hostmode.lambda_executor import HostProcessRuntimeExecutor

        return HostProcessRuntimeExecutor


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    """Selected with ``PROVIDER_OVERRIDE_DYNAMODB=moto``."""
    from localstack_hostmode.dynamodb import (
        MotoDynamoDBProvider,
        lighten_update_expressions,
        serialised_moto_dispatcher,
    )

    lighten_update_expressions()
    return Service.for_provider(MotoDynamoDBProvider(), dispatch_table_factory=serialised_moto_dispatcher)
