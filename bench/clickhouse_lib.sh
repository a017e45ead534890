# Sourced by the benchmarks: start_clickhouse DIR starts a private clickhouse-server on
# loopback with its data under DIR and sets ch_pid, ch_port (native) and ch_http_port;
# it returns 1 when clickhouse-server is not installed or does not answer in 20 s.
# The caller kills $ch_pid when done.
start_clickhouse() {
  local dir=$1
  command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null || return 1
  ch_port=$((20000 + RANDOM % 20000))
  ch_http_port=$((ch_port + 1))
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$ch_http_port</http_port>
  <tcp_port>$ch_port</tcp_port>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
XML
  cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  clickhouse-server --config-file="$dir/config.xml" >/dev/null 2>&1 &
  ch_pid=$!
  local _
  for _ in $(seq 100); do
    clickhouse-client --port "$ch_port" --query "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
