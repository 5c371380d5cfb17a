#!/usr/bin/env bash
# Runs before `npm test`: makes sure the real peers the tests talk to are
# installed (Debian packages) and that MariaDB answers. Tests never skip a
# missing peer; they fail, so this script says exactly what is missing.
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for pair in sipp:sip-tester kamailio:kamailio baresip:baresip-core chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} — run: sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need[*]}"
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null || {
    echo "apt-get install ${need[*]} failed" >&2; exit 1; }
fi
if command -v mariadb >/dev/null 2>&1 && ! mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/mariadbd ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do mariadb -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
if ! mariadb -uroot -h127.0.0.1 -e 'create database if not exists test' >/dev/null 2>&1; then
  echo "MariaDB is not reachable at 127.0.0.1:3306 as root with an empty password; storage tests run on it too" >&2
  exit 1
fi
exit 0
