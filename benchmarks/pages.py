"""What an open detail (or history) page costs the web server while a job runs, in real
browsers.

Every open detail page of a running job refreshes itself once a second over its websocket
(status, progress, Top-N; the charts every few seconds), so the web server's CPU grows with
the number of pages researchers keep open. Starts the app the way a user does
(``./scripts/run.sh`` on a free port and a temporary data folder), signs one user in, then per
run: submits a large job and, while it runs,

1. **baseline** — as many API clients as there will be pages poll the job's ``/status`` once a
   second (what a script watching the job costs), for ``--seconds``;
2. **pages** — ``--pages`` Chromium tabs (each a browser context of its own, signed in through
   the sign-in form) show the job's detail page (``--page history``: the history page, the
   running job on top of 19 small finished ones, which refreshes itself while a job on it
   is live); after they have settled, the same window.

It prints the web server's CPU per page-second and per status poll, and their ratio (a page's
refresh against the API's poll, measured in the same run), then medians over the runs. The
job is canceled at the end of each run and the app stopped at the end. Needs Chromium (the
``E2E_CHROMIUM`` path, by default ``/usr/bin/chromium``) and ``requirements-bench.txt``.

    python benchmarks/pages.py                        # 10 pages, 30 s, one run
    python benchmarks/pages.py --runs 3               # the README's figures
    python benchmarks/pages.py --runs 3 --page history
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

import concurrency as bench  # noqa: E402  (the app's start, roles and CPU counters)
from api_load import free_port  # noqa: E402

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# long enough to run through both windows (history pages leave the workers more of the CPU)
JOB_COMBINATIONS = {"detail": 8_000_000, "history": 9_900_000}
SETTLE_SECONDS = 5.0


def web_cpu(app_pid: int) -> float:
    """CPU seconds so far of the web server's processes."""
    return sum(seconds for role, seconds in bench.cpu_seconds(app_pid).values()
               if role == "web server")


def poll_status(base: str, token: str, job_id: str, clients: int, seconds: float) -> int:
    """``clients`` threads, each with its own connection, GET the job's status once a second
    for ``seconds``; returns how many answered 200."""
    answered = [0] * clients
    end = time.monotonic() + seconds

    def one(slot: int) -> None:
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            time.sleep(slot / clients)  # spread over the second, as pages are
            while (now := time.monotonic()) < end:
                if client.get(f"{bench.API}/optimizations/{job_id}/status").status_code == 200:
                    answered[slot] += 1
                time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def open_pages(browser, base: str, user: bench.User, job_id: str, count: int,  # type: ignore[no-untyped-def]
               which: str) -> list:
    """``count`` signed-in tabs showing the job's detail page (``which`` "detail") or the
    history page with the job on it ("history")."""
    pages = []
    for _ in range(count):
        page = browser.new_context().new_page()
        page.goto(f"{base}/sign-in")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/sign-in" not in url, timeout=60_000)
        if which == "history":
            page.goto(f"{base}/optimizations")
            page.get_by_text("Running", exact=True).first.wait_for(timeout=60_000)
        else:
            page.goto(f"{base}/optimizations/{job_id}")
            page.get_by_text("Progress", exact=True).wait_for(timeout=60_000)
        pages.append(page)
    return pages


def earlier_jobs(client: httpx.Client, user: bench.User, body: dict, count: int) -> None:
    """``count`` small jobs, finished (submitted as the live-job limit lets them in)."""
    deadline = time.monotonic() + 300
    submitted = 0
    while submitted < count and time.monotonic() < deadline:
        response = client.post(f"{bench.API}/optimizations", json=body, headers=user.headers)
        if response.status_code == 429:
            time.sleep(1.0)
            continue
        response.raise_for_status()
        submitted += 1
    live = client.get(f"{bench.API}/optimizations?status=queued", headers=user.headers)
    while live.json()["count"] and time.monotonic() < deadline:
        time.sleep(1.0)
        live = client.get(f"{bench.API}/optimizations?status=queued", headers=user.headers)
    time.sleep(SETTLE_SECONDS)


def one_run(browser, base: str, app_pid: int, client: httpx.Client, user: bench.User,  # type: ignore[no-untyped-def]
            body: dict, pages_count: int, seconds: float, which: str) -> tuple[float, float]:
    """(web server CPU ms per page-second, per status poll)."""
    created = client.post(f"{bench.API}/optimizations", json=body, headers=user.headers)
    created.raise_for_status()
    job_id = created.json()["id"]
    try:
        time.sleep(SETTLE_SECONDS)
        before = web_cpu(app_pid)
        polls = poll_status(base, user.token, job_id, pages_count, seconds)
        per_poll = (web_cpu(app_pid) - before) * 1000 / max(1, polls)
        pages = open_pages(browser, base, user, job_id, pages_count, which)
        time.sleep(SETTLE_SECONDS)
        before, started = web_cpu(app_pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = web_cpu(app_pid) - before, time.monotonic() - started
        status = client.get(f"{bench.API}/optimizations/{job_id}/status",
                            headers=user.headers).json()["status"]
        for page in pages:
            page.context.close()
        if status != "running":
            raise RuntimeError(f"the job was {status} before the window ended; raise its size")
        return used * 1000 / (pages_count * elapsed), per_poll
    finally:
        client.post(f"{bench.API}/optimizations/{job_id}/cancel", headers=user.headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--page", choices=["detail", "history"], default="detail",
                        help="the page the tabs show: the job's detail page, or the history "
                             "page with the job on it (20 earlier jobs under it)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="optimizer-pages-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = data_dir / "app.log"
    print(f"starting ./scripts/run.sh on {base}, data in {data_dir}")
    process = bench.start_app(bench.app_environment(data_dir, port, 10_000_000), log)
    results: list[tuple[float, float]] = []
    try:
        bench.wait_healthy(process, base, log)
        with httpx.Client(base_url=base, timeout=60) as client:
            user = bench.register_and_sign_in(client, bench.new_user("pages"))
            strategies = client.get(f"{bench.API}/strategies", headers=user.headers).json()
            datasets = client.get(f"{bench.API}/datasets", headers=user.headers).json()["data"]
            dataset = next((d for d in datasets if d.get("symbol") == "GOOG"), datasets[0])
            strategy, space, total = bench.grid_of_size(strategies["data"],
                                                      JOB_COMBINATIONS[args.page])
            body = bench.job_body("pages", strategy, dataset["id"], space)
            if args.page == "history":  # a full first page under the running job
                earlier_jobs(client, user, bench.job_body(
                    "earlier", strategy, dataset["id"],
                    bench.small_space(strategies["data"], strategy)), 19)
            print(f"job: {strategy} on {dataset['symbol']}, {total:,} combinations; "
                  f"{args.pages} {args.page} pages, {args.seconds:.0f} s windows")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=["--no-sandbox"])
                for run in range(1, args.runs + 1):
                    page_ms, poll_ms = one_run(browser, base, process.pid, client, user, body,
                                               args.pages, args.seconds, args.page)
                    results.append((page_ms, poll_ms))
                    print(f"run {run}: web server CPU per open page-second {page_ms:.2f} ms, "
                          f"per API status poll {poll_ms:.2f} ms: a page costs "
                          f"{page_ms / poll_ms:.1f}x a poll")
                browser.close()
    finally:
        bench.stop_app(process)
    page = statistics.median(r[0] for r in results)
    poll = statistics.median(r[1] for r in results)
    ratio = statistics.median(r[0] / r[1] for r in results)
    print(f"\nmedians of {len(results)} run(s): an open {args.page} page {page:.2f} ms of web server "
          f"CPU per second, an API status poll {poll:.2f} ms; ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()
