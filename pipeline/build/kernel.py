"""Executing notebooks with papermill in one reused Jupyter kernel per build process.

Starting a kernel and importing pandas, matplotlib, scipy and the pipeline costs about two
seconds; a build process keeps one kernel for up to ``KERNEL_REUSE`` notebooks instead. Each
notebook still starts from an empty namespace with execution counts from 1, in its own working
folder; between notebooks the kernel waits in a folder of its own (``build/kernels``), so
removing a staging folder never leaves it standing in a deleted directory.

The reuse is a papermill engine (``ReusedKernelEngine``, registered as ``yjplan``) built on
papermill's public ``NBClientEngine``.
"""

from __future__ import annotations

import atexit
import functools
import json
import multiprocessing.util
import os
import signal
import sys
import time
from pathlib import Path

from ..paths import build_dir

KERNEL_NAME = "yjplan"
ENGINE_NAME = "yjplan"
#: Notebooks one kernel executes before it is replaced (bounds the memory a long run can accumulate).
KERNEL_REUSE = 20
#: Run in a new kernel before its first notebook: the imports every plan needs.
KERNEL_WARM_UP = "import pipeline.document.sections, pipeline.document.compare_sections, pipeline.document.tracking_section"
KERNEL_LOG_FLAG = "--IPKernelApp.log_level=ERROR"  # the kernel's start-up chatter is not the user's business


def ensure_kernel() -> str:
    """Install (once) a kernelspec named 'yjplan' pointing at this interpreter; return its name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() and KERNEL_LOG_FLAG in spec.argv:
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=KERNEL_NAME, display_name="Python (yjplan)", prefix=sys.prefix))
    spec_file = folder / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    if KERNEL_LOG_FLAG not in spec["argv"]:
        spec["argv"].append(KERNEL_LOG_FLAG)
        spec_file.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return KERNEL_NAME


@functools.lru_cache(maxsize=1)
def prompt_client_class():
    """A kernel client whose ``wait_for_ready`` returns as soon as the kernel answers on both channels.

    PRIVATE OVERRIDE of jupyter_client 8's ``KernelClient._async_wait_for_ready``: upstream keeps
    reading IOPub until it has been silent for 0.2 s (a workaround for late IOPub subscriptions,
    jupyter/jupyter_client#593 and #592). A reused kernel gets a new client twice per notebook,
    so that is 0.4 s of idle time per plan. Returning once the kernel_info request's status
    message arrived on IOPub keeps the guarantee #592 wanted (IOPub is subscribed), and nbclient
    only reads messages whose parent is a request it sent. ``tests/test_kernel.py`` fails when
    the upstream method changes, so this is re-checked on every jupyter_client upgrade.
    """
    from queue import Empty

    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import ensure_async, run_sync

    class PromptKernelClient(BlockingKernelClient):
        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.time() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once it delivers that request's status messages
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.time() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

        wait_for_ready = run_sync(_async_wait_for_ready)

    return PromptKernelClient


class KernelPrepareError(RuntimeError):
    """The reused kernel could not be reset or moved to a notebook's folder."""


class ReusedKernel:
    """The one kernel of this process: started on first use, reset between notebooks, replaced
    after ``KERNEL_REUSE`` notebooks or any failure, shut down when the process ends."""

    def __init__(self) -> None:
        self.km = None
        self.uses = 0
        self.warm = False
        self._hooked = False

    def home(self) -> Path:
        folder = build_dir() / "kernels"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _run(self, code: str) -> dict:
        kc = self.km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=120)
            return kc.execute_interactive(code, silent=True, store_history=False, timeout=300)
        finally:
            kc.stop_channels()

    def _start(self) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name=ensure_kernel(), client_factory=prompt_client_class())
        self.km.start_kernel(cwd=str(self.home()))
        self.uses, self.warm = 0, False
        if not self._hooked:
            atexit.register(self.shutdown)
            # Pool workers leave through multiprocessing's exit path, which skips atexit but runs finalizers.
            multiprocessing.util.Finalize(self, self.shutdown, exitpriority=10)
            self._hooked = True

    def acquire(self, cwd: Path, count: bool = True):
        """The kernel, with a clean namespace, standing in ``cwd``; a fresh kernel if the reused one fails."""
        for attempt in (1, 2):
            if self.km is None or self.uses >= KERNEL_REUSE:
                self.shutdown()
                self._start()
            code = f"import os as _os\n_os.chdir({str(cwd)!r})\ndel _os\nget_ipython().reset(new_session=True, aggressive=False)"
            if not self.warm:
                code = KERNEL_WARM_UP + "\n" + code
            try:
                reply = self._run(code)
            except RuntimeError as exc:
                reply = {"content": {"status": "error", "evalue": str(exc)}}
            if reply["content"]["status"] == "ok":
                self.warm = True
                self.uses += int(count)
                return self.km
            self.shutdown()
            if attempt == 2:
                raise KernelPrepareError(f"could not prepare the kernel: {reply['content'].get('evalue', reply['content'])}")
        raise AssertionError("unreachable")  # pragma: no cover

    def release(self) -> None:
        """Move the kernel out of the notebook's folder (which is about to be published or removed)."""
        if self.km is None:
            return
        reply = self._run(f"import os as _os\n_os.chdir({str(self.home())!r})\ndel _os")
        if reply["content"]["status"] != "ok":
            self.shutdown()

    def shutdown(self) -> None:
        km, self.km = self.km, None
        if km is not None:
            try:
                km.shutdown_kernel(now=True)
            except (RuntimeError, OSError):  # the kernel may already be gone
                pass


_KERNEL = ReusedKernel()


def kill_now() -> None:
    """Kill this process's kernel at once (from any thread): the run that owns this process has gone."""
    km = _KERNEL.km
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:  # already gone
            pass


def warm_up() -> None:
    """Start and warm this process's kernel now (not counted as a notebook)."""
    _KERNEL.acquire(_KERNEL.home(), count=False)


def shutdown() -> None:
    _KERNEL.shutdown()


def _engine_class():
    from papermill.engines import NBClientEngine

    class ReusedKernelEngine(NBClientEngine):
        """papermill's nbclient engine, run in this process's reused kernel (see ``ReusedKernel``)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            cwd = Path(kwargs.get("cwd") or ".").resolve()
            km = _KERNEL.acquire(cwd)
            try:
                result = super().execute_managed_notebook(nb_man, kernel_name, km=km, **kwargs)
            except BaseException:
                _KERNEL.shutdown()
                raise
            _KERNEL.release()
            return result

    return ReusedKernelEngine


@functools.lru_cache(maxsize=1)
def register_engine() -> str:
    """Register the reused-kernel engine with papermill (once per process); return its name."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, _engine_class())
    return ENGINE_NAME


def execute_notebook(notebook: Path, output: Path, parameters: dict, cwd: Path) -> None:
    """Run a notebook with papermill in the reused kernel (the executed copy is kept for audit)."""
    import papermill as pm

    pm.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters,
        engine_name=register_engine(),
        kernel_name=ensure_kernel(),
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
    )


def make_publishable(executed: Path, roots: dict[str, Path]) -> None:
    """Make an executed notebook fit to publish for audit: no stderr streams (warnings quote file
    paths), no absolute paths in papermill's metadata or in any output (each of ``roots`` is
    replaced by its label, e.g. ``{"<repository>": REPO_ROOT}``)."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    pm_meta = nb.get("metadata", {}).get("papermill", {})
    for key in ("input_path", "output_path"):
        if pm_meta.get(key):
            pm_meta[key] = Path(pm_meta[key]).name
    for cell in nb.get("cells", []):
        cell["outputs"] = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    text = json.dumps(nb, indent=1, ensure_ascii=False)
    for label, root in sorted(roots.items(), key=lambda kv: -len(str(kv[1]))):
        for form in {str(root), str(Path(root).resolve())}:
            text = text.replace(form, label)
    executed.write_text(text + "\n", encoding="utf-8")
