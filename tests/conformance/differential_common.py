"""What the differential fuzzers share: their command line, one HTTP request, and the
comparison of each query's answers."""
import argparse
import json
import urllib.error
import urllib.parse
import urllib.request


def arguments(*extra):
    """The fuzzers' options; `extra`: (flag, keyword arguments) pairs of their own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default="http://127.0.0.1:8086")
    ap.add_argument("--reference", default="http://127.0.0.1:18086")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--show", type=int, default=25, help="differences printed")
    for flag, kwargs in extra:
        ap.add_argument(flag, **kwargs)
    return ap.parse_args()


def req(base, path, params, body=None, timeout=30):
    """POSTs `body` to `base` + `path`; (status, text), or (0, "timeout")."""
    url = base + path + "?" + urllib.parse.urlencode(params)
    data = body.encode() if body is not None else b""
    r = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except TimeoutError:
        return 0, "timeout"


def parsed(text):
    """A body as JSON when it is JSON, else as it is."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def count_differences(args, db, queries, norm=parsed, timeout=30):
    """Sends every query of `queries` to both servers (database `db`), prints the first
    `args.show` whose status or normalised body (`norm`) differ, then how many did, and
    returns that number."""
    bad, sent = 0, 0
    for q in queries:
        sent += 1
        sa, ta = req(args.ours, "/query", {"db": db, "q": q}, timeout=timeout)
        sb, tb = req(args.reference, "/query", {"db": db, "q": q}, timeout=timeout)
        if sa != sb or norm(ta) != norm(tb):
            bad += 1
            if bad <= args.show:
                print("DIFF", q, "\n  hb:", sa, ta[:400], "\n  ix:", sb, tb[:400])
    print("differences:", bad, "of", sent)
    return bad
