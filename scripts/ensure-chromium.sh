#!/usr/bin/env bash
# Headless Chromium for the report's browser test (tests/test_report_browser.py): Debian's
# package, installed when missing. Playwright drives this binary; it never downloads a browser.
# Without root or apt, the browser tests are skipped with a reason instead.
set -u
report_version() { /usr/bin/chromium --version 2>/dev/null | head -n 1 >&2; }
if [ -x /usr/bin/chromium ]; then report_version; exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..." >&2
  if apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    report_version
  else
    echo "could not install chromium: browser tests will be skipped" >&2
  fi
else
  echo "no /usr/bin/chromium and no root apt-get: browser tests will be skipped" >&2
fi
exit 0
