#!/usr/bin/env python3
"""A scripted "browser" for headless `sf org login web` against sfr-org (stdlib only).

Usage: browser.py AUTHORIZE_URL USERNAME PASSWORD LOGFILE

Opens the authorize URL with a cookie jar, fills and posts the login form (every hidden input is sent back, so CSRF
and request ids round-trip), posts the approve form when one is shown, and follows redirects until the browser lands
on sf's loopback callback (http://localhost:1717/OauthRedirect), which then answers with its own redirect to the
success page. Each step is written to LOGFILE (URLs without query strings, statuses, form names).
Exit 0 when sf's callback was reached, 1 otherwise.
"""

import html.parser
import http.cookiejar
import sys
import urllib.error
import urllib.parse
import urllib.request

CALLBACK_PREFIX = "http://localhost:1717/"
MAX_STEPS = 10


class FormParser(html.parser.HTMLParser):
    """Collects the forms of a page: action, method, inputs and submit buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "inputs": [], "buttons": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            self.forms[-1]["inputs"].append((a["name"], a.get("value", ""), a.get("type", "text").lower()))
        elif tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def short(url):
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def main():
    url, username, password, logfile = sys.argv[1:5]
    log = open(logfile, "a", encoding="utf-8")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    data = None
    for step in range(MAX_STEPS):
        method = "POST" if data is not None else "GET"
        try:
            resp = opener.open(urllib.request.Request(url, data=data, method=method), timeout=30)
            status, final, body = resp.status, resp.geturl(), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, final, body = err.code, err.geturl(), err.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as err:
            print(f"step {step}: {method} {short(url)} failed: {err}", file=log, flush=True)
            return 1
        print(f"step {step}: {method} {short(url)} -> {status} at {short(final)}", file=log, flush=True)
        if final.startswith(CALLBACK_PREFIX):
            print("reached the sf callback", file=log, flush=True)
            return 0 if status < 400 else 1
        parser = FormParser()
        parser.feed(body)
        forms = [f for f in parser.forms if f["method"] == "post"]
        if not forms:
            print(f"no form on {short(final)}; page starts: {body[:300]!r}", file=log, flush=True)
            return 1
        form = forms[0]
        fields = [(n, v) for n, v, t in form["inputs"] if t in ("hidden", "text", "email", "password")]
        names = {n for n, _ in fields}
        if "username" in names or "password" in names:
            fields = [(n, username if n == "username" else password if n == "password" else v) for n, v in fields]
            kind = "login"
        else:
            approve = [b for b in form["buttons"] if b[1] in ("approve", "allow", "Allow")]
            if not approve:
                print(f"form without login fields or an approve button: {form}", file=log, flush=True)
                return 1
            fields.append(approve[0])
            kind = "approve"
        print(f"  submitting the {kind} form with fields {[n for n, _ in fields]}", file=log, flush=True)
        url = urllib.parse.urljoin(final, form["action"] or final)
        data = urllib.parse.urlencode(fields).encode()
    print("too many steps", file=log, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
