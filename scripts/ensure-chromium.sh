#!/usr/bin/env bash
# The browser test drives Debian's chromium through Playwright (a browser download of
# Playwright's own cannot work here). Install it when missing and we may (root); otherwise
# say so and let the browser test skip outside CI.
set -eu
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser test (apt-get)..." >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "note: chromium is not installed and cannot be installed without root; the browser test will be skipped" >&2
fi
