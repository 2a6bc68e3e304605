#!/usr/bin/env bash
# Headless Chromium for the report's browser test: Debian's package, installed when missing.
# Without root or apt, the browser tests are skipped with a reason instead.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..." >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "could not install chromium: browser tests will be skipped" >&2
else
  echo "no /usr/bin/chromium and no root apt-get: browser tests will be skipped" >&2
fi
exit 0
