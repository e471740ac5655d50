"""Replays recorded HTTP request shapes (Telegraf's and Grafana's, which cannot be installed
here) against a server and prints what it answered.

Usage: python3 http_fixtures.py BASE_URL FIXTURE.json...

Each fixture file holds `requests`: name, method, path, optional `params` (query string),
`form` (an `application/x-www-form-urlencoded` body), `body` (text; gzip-compressed before
sending when `gzip` is true) and `headers`. The transcript holds, per request, the status,
the `Content-Type` and `Content-Encoding` headers and the body (inflated when the server
gzipped it), byte for byte. Nothing is normalised. Standard library only.
"""

import gzip
import http.client
import json
import sys
import urllib.parse


def send(base, req):
    url = urllib.parse.urlparse(base)
    path = req["path"]
    if req.get("params"):
        path += "?" + urllib.parse.urlencode(req["params"])
    headers = dict(req.get("headers", {}))
    body = None
    if "form" in req:
        body = urllib.parse.urlencode(req["form"]).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif "body" in req:
        body = req["body"].encode()
        if req.get("gzip"):
            body = gzip.compress(body, mtime=0)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(req["method"], path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        encoding = resp.getheader("Content-Encoding")
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        return {"request": req["name"], "status": resp.status,
                "content_type": resp.getheader("Content-Type"),
                "content_encoding": encoding,
                "body": raw.decode("utf-8", "replace")}
    finally:
        conn.close()


def main():
    base = sys.argv[1]
    out = []
    for path in sys.argv[2:]:
        with open(path) as f:
            fixture = json.load(f)
        for req in fixture["requests"]:
            out.append(send(base, req))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
