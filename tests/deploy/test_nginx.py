"""deploy/nginx.conf.template, rendered by scripts/serve_class.py, in a real nginx in front of two small HTTP servers
standing in for Streamlit replicas (each answers with its name and the headers it was sent): a browser without the
route cookie gets one, and every request carrying it reaches the same replica; different browsers are spread over
both; the websocket's upgrade reaches the replica and the connection switches; a body over Streamlit's upload limit
is refused by nginx; the Host (with its port) reaches the replica; a replica that is down leaves its browsers to the
other one.

nginx is a test dependency (``make test`` installs Debian's nginx): a missing one fails, it never skips."""

from __future__ import annotations

import http.client
import http.server
import json
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import serve_class

COOKIE = serve_class.ROUTE_COOKIE


class Replica(http.server.BaseHTTPRequestHandler):
    """Answers with its server's name; closes each connection after its answer, so that a replica shut down is
    really gone (no kept-alive connection of nginx's left to reach it)."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1  # headers and body in one write (flushed after each request)

    def do_GET(self) -> None:
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            data = self.rfile.readline()  # after the switch: an echo of one line, tagged with this replica's name
            self.wfile.write(f"{self.server.name}:".encode() + data)
            self.wfile.flush()
            self.close_connection = True
            return
        body = json.dumps({"replica": self.server.name, "path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        got = 0
        length = int(self.headers["Content-Length"])
        while got < length and (chunk := self.rfile.read(min(2**20, length - got))):
            got += len(chunk)
        body = json.dumps({"replica": self.server.name, "received": got}).encode()
        self.send_response(200)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy(tmp_path) -> Iterator[dict]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx not found: it is a test dependency (make test installs Debian's nginx)"
    servers = []
    for name in ("a", "b"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replica)
        server.name = name
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
    port = serve_class.free_port()
    folder = tmp_path / "nginx"
    (folder / "temp").mkdir(parents=True)
    (folder / "nginx.conf").write_text(serve_class.nginx_conf(
        f"127.0.0.1:{port}", [f"127.0.0.1:{s.server_address[1]}" for s in servers]))
    proc = subprocess.Popen([nginx, "-p", str(folder), "-c", "nginx.conf", "-e", "error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        serve_class.wait_for(lambda: serve_class._listens("127.0.0.1", port), "nginx", proc, folder / "error.log",
                             timeout=20)
        yield {"port": port, "servers": {s.name: s for s in servers}, "folder": folder}
    finally:
        serve_class.stop_process(proc)
        for server in servers:
            server.shutdown()
            server.server_close()


def get(port: int, path: str = "/", cookie: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={**({"Cookie": f"{COOKIE}={cookie}"} if cookie else {}), **(headers or {})})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def test_a_browser_gets_a_route_cookie_and_stays_on_its_replica(proxy):
    resp, body = get(proxy["port"])
    assert resp.status == 200
    set_cookie = resp.getheader("Set-Cookie")
    match = re.fullmatch(rf"{COOKIE}=([0-9a-f]{{32}}); Path=/; HttpOnly; SameSite=Lax", set_cookie or "")
    assert match, set_cookie
    first = json.loads(body)["replica"]
    route = match.group(1)
    for path in ("/", "/static/js/main.js", "/_stcore/health", "/_stcore/upload_file/abc", "/media/x.png"):
        resp, body = get(proxy["port"], path, cookie=route)
        assert resp.getheader("Set-Cookie") is None  # a browser that has the cookie is given nothing
        assert json.loads(body)["replica"] == first, path
    access = proxy["folder"] / "access.log"  # nginx writes a request's line once its answer is sent: wait for it
    serve_class.wait_for(lambda: len(access.read_text().splitlines()) >= 6, "the access log", timeout=10)
    log = access.read_text().splitlines()
    assert len(log) == 6 and all(f"route={route}" in line for line in log), log
    upstream = {re.search(r"upstream=(\S+)", line).group(1) for line in log}
    assert upstream == {f"127.0.0.1:{proxy['servers'][first].server_address[1]}"}


def test_browsers_are_spread_over_the_replicas(proxy):
    seen = [json.loads(get(proxy["port"], cookie=f"browser-{k}")[1])["replica"] for k in range(40)]
    assert set(seen) == {"a", "b"}
    assert min(seen.count("a"), seen.count("b")) >= 8, seen  # consistent hashing: roughly even, never all on one
    again = [json.loads(get(proxy["port"], cookie=f"browser-{k}")[1])["replica"] for k in range(40)]
    assert again == seen


def test_the_websocket_upgrade_reaches_the_replica_and_switches(proxy):
    route = "websocket-browser"
    replica = json.loads(get(proxy["port"], cookie=route)[1])["replica"]
    with socket.create_connection(("127.0.0.1", proxy["port"]), timeout=10) as sock:
        sock.sendall(f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{proxy['port']}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nCookie: {COOKIE}={route}\r\n\r\n".encode())
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 101 ")
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.lower()] = value.strip()
        assert headers["upgrade"] == "websocket" and headers["connection"].lower() == "upgrade"
        sock.sendall(b"hello\n")  # the connection is now a tunnel to the replica that holds this browser's session
        assert reader.readline() == f"{replica}:hello\n".encode()


def test_the_replica_is_told_the_host_with_its_port_and_the_client_and_no_keepalive(proxy):
    _, body = get(proxy["port"], cookie="x")
    headers = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
    assert headers["host"] == f"127.0.0.1:{proxy['port']}"  # Streamlit checks the websocket's Origin against it
    assert headers["x-forwarded-for"] == "127.0.0.1" and headers["x-forwarded-proto"] == "http"
    assert headers["connection"] == "close"  # no kept-alive connection that the replica could close under nginx


def test_a_body_over_streamlits_upload_limit_is_refused_one_within_it_passes_the_check(proxy):
    limit = serve_class.upload_limit_mib()
    assert limit == 50  # .streamlit/config.toml: server.maxUploadSize (tests/runtime/test_images.py ties it)
    conf = (proxy["folder"] / "nginx.conf").read_text()
    assert f"client_max_body_size {limit + serve_class.MULTIPART_ROOM_MIB}m;" in conf

    with socket.create_connection(("127.0.0.1", proxy["port"]), timeout=10) as sock:
        too_long = (limit + serve_class.MULTIPART_ROOM_MIB) * 2**20 + 1
        sock.sendall(f"POST /_stcore/upload_file/x HTTP/1.1\r\nHost: h\r\nContent-Length: {too_long}\r\n"
                     f"Cookie: {COOKIE}=u\r\nConnection: close\r\n\r\n".encode())
        assert sock.makefile("rb").readline().split()[1] == b"413"  # refused on the announced length, unread

    size = limit * 2**20 + 4096  # a file at Streamlit's limit and the form around it reach the replica whole
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=30)
    conn.request("POST", "/_stcore/upload_file/x", body=b"\0" * size, headers={"Cookie": f"{COOKIE}=u"})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["received"] == size
    conn.close()


def test_a_replica_that_is_down_leaves_its_browsers_to_the_other(proxy):
    routes = {json.loads(get(proxy["port"], cookie=f"r{k}")[1])["replica"]: f"r{k}" for k in range(20)}
    down = proxy["servers"]["a"]
    down.shutdown()
    down.server_close()
    resp, body = get(proxy["port"], cookie=routes["a"])
    assert resp.status == 200 and json.loads(body)["replica"] == "b"
    assert json.loads(get(proxy["port"], cookie=routes["b"])[1])["replica"] == "b"


def test_the_template_needs_a_replica():
    with pytest.raises(ValueError, match="at least one replica"):
        serve_class.nginx_conf("8500", [])
