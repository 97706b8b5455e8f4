"""The one private override of jupyter_client (``pipeline.build.kernel.prompt_client_class``) is checked
against the upstream method it replaces: when jupyter_client changes it, this fails and the override
must be reviewed (see jupyter/jupyter_client#593)."""

from __future__ import annotations

import hashlib
import inspect

from jupyter_client.client import KernelClient

from pipeline.build import kernel

#: sha256 of jupyter_client 8.10's ``KernelClient._async_wait_for_ready`` source, reviewed when the override was written.
UPSTREAM_SHA256 = "0d732ad86fea311502a6bfc53d8b1be6055f3813ec4f13ef717f8adbbd37ec56"


def test_upstream_wait_for_ready_is_the_version_the_override_copies():
    source = inspect.getsource(KernelClient._async_wait_for_ready)
    assert hashlib.sha256(source.encode()).hexdigest() == UPSTREAM_SHA256, (
        "jupyter_client's wait_for_ready changed: review pipeline.build.kernel.prompt_client_class against it, "
        "then update UPSTREAM_SHA256")
    # The behaviour the override removes: the final loop that waits until IOPub has been quiet for 0.2 s.
    assert source.rstrip().endswith("break") and "# Flush IOPub channel" in source
    sig = inspect.signature(KernelClient._async_wait_for_ready)
    override = inspect.signature(kernel.prompt_client_class()._async_wait_for_ready)
    assert list(sig.parameters) == list(override.parameters)


def test_the_engine_is_registered_with_papermill():
    from papermill.engines import papermill_engines

    name = kernel.register_engine()
    assert papermill_engines.get_engine(name).__name__ == "ReusedKernelEngine"
