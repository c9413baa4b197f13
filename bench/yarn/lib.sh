# shellcheck shell=bash
# bench/yarn/lib.sh: the mini-Hadoop of the YARN benchmarks, sourced by bench/yarn/*.sh (run from
# the repository's root).
#
#   mini_hadoop_start DIR [FLAGS...]  # deploy/mini-hadoop with work dir DIR, conf in DIR/conf
#   mini_hadoop_wait DIR              # until its READY line is in DIR/ready.txt
#   mini_hadoop DIR [FLAGS...]        # both, then HADOOP_CONF_DIR=DIR/conf
#   mini_hadoop_stop                  # stops every cluster started (also done at exit)
#   cluster_urls CONF_DIR             # sets rm_url and fs from the cluster's site files
#
# Each cluster runs with --stop-on-stdin-eof on a pipe of its own held by the script, so it stops
# when the script ends, however it ends; the EXIT trap stops it at once.

mini_hadoop_pids=()
mini_hadoop_fds=()

mini_hadoop_start() {
  local dir=$1 fd; shift
  rm -rf "$dir"; mkdir -p "$dir"
  exec {fd}> >(exec deploy/mini-hadoop --stop-on-stdin-eof --work-dir "$dir" --conf-dir "$dir/conf" \
    "$@" >"$dir/ready.txt" 2>"$dir/launcher.log")
  mini_hadoop_pids+=($!)
  mini_hadoop_fds+=("$fd")
  trap mini_hadoop_stop EXIT
}

# Fails (exit 1) with the launcher's output if the cluster of DIR ends or is not READY in 900 s.
mini_hadoop_wait() {
  local dir=$1 started
  started=$(date +%s)
  until grep -q '^READY ' "$dir/ready.txt" 2>/dev/null; do
    if ! kill -0 "${mini_hadoop_pids[@]}" 2>/dev/null; then
      cat "$dir/launcher.log" >&2
      tail -n 40 "$dir/logs/mini-hadoop.log" >&2 2>/dev/null || true
      echo "bench: the mini-Hadoop of $dir ended before READY" >&2
      exit 1
    fi
    [ $(( $(date +%s) - started )) -lt 900 ] || { echo "bench: $dir not READY in 900 s" >&2; exit 1; }
    sleep 0.5
  done
}

mini_hadoop() {
  mini_hadoop_start "$@"
  mini_hadoop_wait "$1"
  export HADOOP_CONF_DIR="$1/conf"
}

mini_hadoop_stop() {
  local fd
  [ ${#mini_hadoop_pids[@]} -gt 0 ] || return 0
  kill -TERM "${mini_hadoop_pids[@]}" 2>/dev/null || true
  for fd in "${mini_hadoop_fds[@]}"; do exec {fd}>&-; done
  wait "${mini_hadoop_pids[@]}" 2>/dev/null || true
  mini_hadoop_pids=(); mini_hadoop_fds=()
}

# site CONF_DIR FILE NAME: the value of property NAME in a site file as the launcher writes it.
site() { sed -n "s:.*<name>$3</name><value>\([^<]*\)</value>.*:\1:p" "$1/$2" | head -1; }

# shellcheck disable=SC2034 # rm_url and fs are the caller's
cluster_urls() {
  rm_url="http://$(site "$1" yarn-site.xml yarn.resourcemanager.webapp.address)"
  fs=$(site "$1" core-site.xml fs.defaultFS)
  fs=${fs%/}
}
