#!/bin/sh
# Installs the Debian packages roost needs: `build` for compiling and running
# (make demo), `all` adds what the test suites drive (make check). As root it
# runs apt-get; otherwise it prints the exact command to run.
set -u
what=${1:-all}

BUILD_PKGS="gcc make pkg-config libseccomp-dev libssl-dev libcrypt-dev
zlib1g-dev openssl"
TEST_PKGS="libcmocka-dev clang libclang-rt-14-dev clang-format python3 python3-pytest fail2ban
dovecot-imapd dovecot-pop3d dovecot-sieve fetchmail postfix isync neomutt
curl procps mandoc groff-base munin-node logrotate systemd man-db
dpkg-dev debhelper devscripts lintian ssl-cert"

pkgs=$BUILD_PKGS
[ "$what" = all ] && pkgs="$pkgs $TEST_PKGS"

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "roost needs these Debian packages; as root run:"
	echo "  apt-get install -y --no-install-recommends$missing"
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (postfix, dovecot) must not start system-wide instances
# while we install them: the tests start private ones on high ports.
rcd=/usr/sbin/policy-rc.d
made_rcd=no
if [ ! -e $rcd ]; then
	printf '#!/bin/sh\nexit 101\n' >$rcd && chmod 755 $rcd && made_rcd=yes
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update && apt-get install -y --no-install-recommends $missing
fi
rc=$?
[ $made_rcd = yes ] && rm -f $rcd
exit $rc
