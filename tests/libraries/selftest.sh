#!/usr/bin/env bash
# Self-test of the Warden library fixture (lib.mjs): installs the pinned packages from package-lock.json,
# then runs every subcommand against throwaway databases — one PostgreSQL database per case (createdb/dropdb,
# random names) and one temp SQLite file per case — for every Better Auth naming variant, and checks that the
# libraries see the effect of Warden-style direct SQL (revoke a session, ban, reset two-factor, expire).
# Drops everything it made.
#
# Env: WARDEN_FIXTURE_PG   server URL without a database (default postgres://postgres@127.0.0.1:5432)
#      SELFTEST_CLEAN=1    delete node_modules first (full install from the lockfile)
# Needs: npm, jq, createdb/dropdb/psql.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
PG=${WARDEN_FIXTURE_PG:-postgres://postgres@127.0.0.1:5432}
PASSWORD="correct horse battery staple 1"
SECONDS=0

die() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
for tool in npm jq createdb dropdb psql; do command -v "$tool" >/dev/null || die "$tool not found"; done

# ---------------------------------------------------------------------------------------------- install
[ "${SELFTEST_CLEAN:-0}" = 1 ] && rm -rf node_modules
lock_before=$(sha256sum package-lock.json package.json)
t0=$SECONDS
npm install --no-audit --no-fund --loglevel=error >&2
ok "npm install ($((SECONDS - t0)) s)"
[ "$(sha256sum package-lock.json package.json)" = "$lock_before" ] || die "npm install changed package-lock.json/package.json"
npm ls --all >/dev/null || die "npm ls: installed tree does not match package.json/package-lock.json"
# every package in the lockfile is installed at exactly the locked version
jq -r '.packages | to_entries[] | select(.key != "" and (.value.optional | not)) | "\(.key) \(.value.version)"' package-lock.json |
  while read -r path version; do
    got=$(jq -r .version "$path/package.json" 2>/dev/null || echo missing)
    [ "$got" = "$version" ] || die "$path: installed $got, locked $version"
  done
ok "installed tree matches package-lock.json exactly"
NODE=$here/node_modules/.bin/node
[ "$("$NODE" --version)" = "v22.23.3" ] || die "node_modules/.bin/node is $("$NODE" --version), want v22.23.3"
ok "node_modules/.bin/node is $("$NODE" --version)"

# ---------------------------------------------------------------------------------------------- helpers
tmp=$(mktemp -d)
touch "$tmp/dbs"
cleanup() {
  local d
  while read -r d; do dropdb --maintenance-db="$PG/postgres" --if-exists "$d" || true; done <"$tmp/dbs"
  rm -rf "$tmp"
}
trap cleanup EXIT

new_target() { # backend -> URL of a fresh empty database
  if [ "$1" = pg ]; then
    local name="warden_fixture_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    echo "$name" >>"$tmp/dbs"
    createdb --maintenance-db="$PG/postgres" "$name"
    echo "$PG/$name"
  else
    echo "sqlite:$(mktemp -p "$tmp" XXXXXX.db)"
  fi
}

lib() { # run lib.mjs; must exit 0 and print exactly one JSON object
  local out
  out=$("$NODE" "$here/lib.mjs" "$@" 2>"$tmp/stderr.$BASHPID") || { cat "$tmp/stderr.$BASHPID" >&2; die "lib.mjs $1 $2 exited non-zero"; }
  [ "$(jq -s 'length' <<<"$out")" = 1 ] && jq -e 'type == "object"' <<<"$out" >/dev/null ||
    die "lib.mjs $1 $2 did not print exactly one JSON object: $out"
  echo "$out"
}

expect() { # json jq-filter description
  jq -e "$2" <<<"$1" >/dev/null || { echo "$1" | head -c 2000 >&2; echo >&2; die "$3 ($2)"; }
  ok "$3"
}

sql() { # URL statement -> rows as a|b lines (what Warden would do directly to the database)
  case "$1" in
    postgres*) psql -qtAX -v ON_ERROR_STOP=1 "$1" -c "$2" ;;
    sqlite:*) "$NODE" --no-warnings -e '
      const { DatabaseSync } = require("node:sqlite");
      const [file, text] = process.argv.slice(1);
      const st = new DatabaseSync(file).prepare(text);
      if (st.columns().length) for (const r of st.all()) console.log(Object.values(r).join("|"));
      else st.run();' "${1#sqlite:}" "$2" ;;
  esac
}

tables_of() {
  case "$1" in
    postgres*) sql "$1" "select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'" ;;
    sqlite:*) sql "$1" "select group_concat(name, ',') from (select name from sqlite_master where type = 'table' order by name)" ;;
  esac
}
camel_columns_of() { # number of columns whose name has an upper-case letter
  case "$1" in
    postgres*) sql "$1" "select count(*) from information_schema.columns where table_schema = 'public' and column_name <> lower(column_name)" ;;
    sqlite:*) sql "$1" "select count(*) from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table' and p.name <> lower(p.name)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------- Better Auth
# variant -> "user-table session-table twoFactor-table sorted-table-list"; column names per variant below
declare -A BA_T=(
  [default]='"user" "session" "twoFactor" account,session,twoFactor,user,verification'
  [plural]='"users" "sessions" "twoFactors" accounts,sessions,twoFactors,users,verifications'
  [snake]='"user" "session" "two_factor" account,session,two_factor,user,verification'
  [custom]='"app_users" "app_sessions" "app_two_factors" app_accounts,app_sessions,app_two_factors,app_users,app_verifications'
)

better_auth_case() { # backend variant
  local backend=$1 variant=$2 url; url=$(new_target "$backend")
  local t_user t_session t_2fa want_tables
  read -r t_user t_session t_2fa want_tables <<<"${BA_T[$variant]}"
  local c_2fa='"twoFactorEnabled"' c_uid='"userId"' true=true
  [ "$variant" = snake ] && { c_2fa=two_factor_enabled; c_uid=user_id; }
  [ "$backend" = sqlite ] && true=1
  local P=(--url "$url" --variant "$variant" --plugins admin,twoFactor) tag="better-auth $backend $variant:"

  local out
  out=$(lib better-auth setup "${P[@]}")
  expect "$out" '.ok and (.created | length == 5) and (.ddl | test("create table"))' "$tag setup creates 5 tables"
  [ "$(tables_of "$url")" = "$want_tables" ] || die "$tag tables are $(tables_of "$url"), want $want_tables"
  ok "$tag tables are $want_tables"
  local camel; camel=$(camel_columns_of "$url")
  if [ "$variant" = snake ]; then [ "$camel" = 0 ] || die "$tag $camel camelCase columns left"
  else [ "$camel" -gt 10 ] || die "$tag only $camel camelCase columns"; fi
  ok "$tag column casing ($camel camelCase columns)"
  local full=false # the variant-independent checks run for the default variant only
  [ "$variant" = default ] && full=true
  if $full; then
    out=$(lib better-auth setup "${P[@]}")
    expect "$out" '.ok and .created == [] and .added == []' "$tag setup again is a no-op"
  fi

  local seed
  seed=$(lib better-auth seed "${P[@]}" --users 3 --sessions-per-user 2)
  expect "$seed" '[.users[].email] == ["user1@example.test","user2@example.test","user3@example.test"]' "$tag seed made 3 users"
  expect "$seed" 'all(.users[]; (.cookies | length) == 2 and (.session_tokens | length) == 2 and (.session_ids | length) == 2
    and all(.cookies[]; startswith("better-auth.session_token=")) and all(.session_tokens[]; test("^[A-Za-z0-9]{32}$")))' \
    "$tag seed made 2 signed cookies + tokens per user"
  expect "$seed" 'all(.users[]; all(.ip_addresses[]; test("^10\\.")) and all(.user_agents[]; startswith("WardenFixture/")))' \
    "$tag sessions carry ipAddress and userAgent"
  expect "$seed" '.admin.email == "user1@example.test" and .admin.role == "admin"' "$tag user1 is admin"
  expect "$seed" '.two_factor_user.email == "user3@example.test" and .two_factor_user.two_factor_enabled
    and (.two_factor_user.totp_secret | length > 0) and (.two_factor_user.backup_codes | length == 10)' "$tag user3 has 2FA"
  local n_sessions; n_sessions=$(sql "$url" "select count(*) from $t_session")
  [ "$n_sessions" = 6 ] || die "$tag $n_sessions session rows, want 6"
  ok "$tag 6 session rows"

  local i j cookie uid pairs="0,0 2,0 2,1" # user1's first, the 2FA user's (replaced) first and second
  [ "$variant" = default ] && pairs="0,0 0,1 1,0 1,1 2,0 2,1"
  for ij in $pairs; do
    i=${ij%,*} j=${ij#*,}
    cookie=$(jq -r ".users[$i].cookies[$j]" <<<"$seed"); uid=$(jq -r ".users[$i].id" <<<"$seed")
    out=$(lib better-auth check-session "${P[@]}" --cookie "$cookie")
    expect "$out" ".valid and .user_id == \"$uid\" and .session_id == $(jq ".users[$i].session_ids[$j]" <<<"$seed")" \
      "$tag check-session user$((i + 1)) session $((j + 1)) valid"
  done
  if $full; then
    cookie=$(jq -r '.users[0].cookies[0]' <<<"$seed")
    out=$(lib better-auth check-session "${P[@]}" --cookie "${cookie/session_token=?/session_token=Z}")
    expect "$out" '.valid == false' "$tag tampered cookie invalid"
  fi

  out=$(lib better-auth sign-in "${P[@]}" --email user2@example.test --password "$PASSWORD")
  expect "$out" '.ok and (.session_token | length == 32)' "$tag sign-in user2 ok"
  if $full; then
    out=$(lib better-auth check-session "${P[@]}" --cookie "$(jq -r .cookie <<<"$out")")
    expect "$out" '.valid' "$tag sign-in cookie valid"
    out=$(lib better-auth sign-in "${P[@]}" --email user2@example.test --password "wrong password")
    expect "$out" '.ok == false and .status == 401 and .code == "INVALID_EMAIL_OR_PASSWORD"' "$tag wrong password refused"
  fi
  out=$(lib better-auth sign-in "${P[@]}" --email user3@example.test --password "$PASSWORD")
  expect "$out" '.ok and .two_factor_redirect' "$tag sign-in user3 asks for 2FA"
  out=$(lib better-auth two-factor-enabled "${P[@]}" --email user3@example.test)
  expect "$out" '.found and .enabled and .rows == 1' "$tag two-factor-enabled user3"
  local V=() # the brief form, without --variant/--plugins, for the default variant
  [ "$variant" = default ] || V=(--variant "$variant")
  out=$(lib better-auth two-factor-enabled --url "$url" "${V[@]}" --email user2@example.test)
  expect "$out" '.found and .enabled == false and .rows == 0' "$tag two-factor-enabled user2 off"

  # Warden-style direct SQL, then ask the library
  local sid; sid=$(jq -r '.users[1].session_ids[0]' <<<"$seed")
  sql "$url" "delete from $t_session where id = '$sid'"
  out=$(lib better-auth check-session "${P[@]}" --cookie "$(jq -r '.users[1].cookies[0]' <<<"$seed")")
  expect "$out" '.valid == false' "$tag deleted session row -> invalid"
  out=$(lib better-auth check-session "${P[@]}" --cookie "$(jq -r '.users[1].cookies[1]' <<<"$seed")")
  expect "$out" '.valid' "$tag other session of that user still valid"

  uid=$(jq -r '.users[1].id' <<<"$seed")
  sql "$url" "update $t_user set banned = $true where id = '$uid'"
  sql "$url" "delete from $t_session where $c_uid = '$uid'"
  out=$(lib better-auth sign-in "${P[@]}" --email user2@example.test --password "$PASSWORD")
  expect "$out" '.ok == false and .status == 403 and .code == "BANNED_USER"' "$tag banned user refused at sign-in"
  out=$(lib better-auth check-session "${P[@]}" --cookie "$(jq -r '.users[1].cookies[1]' <<<"$seed")")
  expect "$out" '.valid == false' "$tag banned user's sessions gone"

  uid=$(jq -r '.two_factor_user.id' <<<"$seed")
  sql "$url" "update $t_user set $c_2fa = $( [ "$backend" = sqlite ] && echo 0 || echo false ) where id = '$uid'"
  sql "$url" "delete from $t_2fa where $c_uid = '$uid'"
  out=$(lib better-auth two-factor-enabled "${P[@]}" --email user3@example.test)
  expect "$out" '.found and .enabled == false and .rows == 0' "$tag 2FA reset seen by the library"
  out=$(lib better-auth sign-in "${P[@]}" --email user3@example.test --password "$PASSWORD")
  expect "$out" '.ok and (.two_factor_redirect | not) and (.session_token | length == 32)' "$tag user3 signs in without 2FA"

  if $full; then
    out=$(lib better-auth two-factor-enabled "${P[@]}" --email nobody@example.test)
    expect "$out" '.found == false and .enabled == false' "$tag two-factor-enabled unknown user"
  fi
}

better_auth_no_plugins_case() { # backend
  local backend=$1 url; url=$(new_target "$backend")
  local tag="better-auth $backend default, no plugins:" out seed
  out=$(lib better-auth setup --url "$url" --variant default)
  expect "$out" '.ok and .created == ["user","session","account","verification"] and (.ddl | test("banned|twoFactor") | not)' \
    "$tag setup creates the 4 core tables only"
  seed=$(lib better-auth seed --url "$url" --variant default --users 2 --sessions-per-user 1)
  expect "$seed" '(.users | length == 2) and (has("admin") | not) and (has("two_factor_user") | not)' "$tag seed"
  out=$(lib better-auth check-session --url "$url" --variant default --cookie "$(jq -r '.users[1].cookies[0]' <<<"$seed")")
  expect "$out" ".valid and .user_id == $(jq '.users[1].id' <<<"$seed")" "$tag check-session"
  out=$(lib better-auth sign-in --url "$url" --variant default --email user1@example.test --password "$PASSWORD")
  expect "$out" '.ok' "$tag sign-in"
}

# ---------------------------------------------------------------------------------------------- Auth.js
authjs_case() { # backend
  local backend=$1 url; url=$(new_target "$backend")
  local tag="authjs $backend:" out seed t_sessions c_expires_past
  if [ "$backend" = pg ]; then
    t_sessions=sessions; c_expires_past="now() - interval '1 minute'"
    out=$(lib authjs setup --url "$url" --flavour pg-adapter)
    expect "$out" '.ok and .flavour == "pg-adapter"' "$tag setup"
    [ "$(tables_of "$url")" = "accounts,sessions,users,verification_token" ] || die "$tag tables $(tables_of "$url")"
  else
    t_sessions='"Session"'; c_expires_past="strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 minute')"
    out=$(lib authjs setup --url "$url")
    expect "$out" '.ok and .flavour == "kysely"' "$tag setup"
    [ "$(tables_of "$url")" = "Account,Session,User,VerificationToken" ] || die "$tag tables $(tables_of "$url")"
  fi
  ok "$tag tables"
  seed=$(lib authjs seed --url "$url" --users 3 --sessions-per-user 2)
  expect "$seed" '(.users | length == 3) and all(.users[]; (.session_tokens | length) == 2
    and all(.session_tokens[]; test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")))' "$tag seed 3 users x 2 sessions"
  [ "$(sql "$url" "select count(*) from $t_sessions")" = 6 ] || die "$tag session rows"
  local i j tok
  for i in 0 1 2; do for j in 0 1; do
    tok=$(jq -r ".users[$i].session_tokens[$j]" <<<"$seed")
    out=$(lib authjs check-session --url "$url" --token "$tok")
    expect "$out" ".valid and .email == \"user$((i + 1))@example.test\"" "$tag check-session user$((i + 1)) session $((j + 1))"
  done; done
  out=$(lib authjs check-session --url "$url" --token "$(cat /proc/sys/kernel/random/uuid)")
  expect "$out" '.valid == false' "$tag unknown token invalid"
  tok=$(jq -r '.users[0].session_tokens[0]' <<<"$seed")
  sql "$url" "delete from $t_sessions where \"sessionToken\" = '$tok'"
  out=$(lib authjs check-session --url "$url" --token "$tok")
  expect "$out" '.valid == false' "$tag deleted session row -> invalid"
  tok=$(jq -r '.users[0].session_tokens[1]' <<<"$seed")
  sql "$url" "update $t_sessions set expires = $c_expires_past where \"sessionToken\" = '$tok'"
  out=$(lib authjs check-session --url "$url" --token "$tok")
  expect "$out" '.valid == false' "$tag expired session -> invalid"
  [ "$(sql "$url" "select count(*) from $t_sessions where \"sessionToken\" = '$tok'")" = 0 ] || die "$tag expired row kept"
  ok "$tag library deleted the expired row"
  out=$(lib authjs check-session --url "$url" --token "$(jq -r '.users[1].session_tokens[0]' <<<"$seed")")
  expect "$out" '.valid' "$tag other user unaffected"
}

# ---------------------------------------------------------------------------------------------- run
# usage errors: non-zero exit, nothing on stdout
if "$NODE" lib.mjs better-auth nope >"$tmp/o" 2>/dev/null || [ -s "$tmp/o" ]; then die "bad subcommand accepted"; fi
ok "bad subcommand -> non-zero exit, empty stdout"

run_backend() {
  local start=$SECONDS variant
  for variant in default plural snake custom; do better_auth_case "$1" "$variant"; done
  better_auth_no_plugins_case "$1"
  authjs_case "$1"
  ok "$1 cases took $((SECONDS - start)) s"
}
# the PostgreSQL and SQLite halves run concurrently, each into its own log
pids=()
for backend in pg sqlite; do
  (run_backend "$backend") >"$tmp/$backend.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
cat "$tmp/pg.log" "$tmp/sqlite.log"
[ "$status" = 0 ] || die "see the log above"
echo "selftest passed in ${SECONDS} s"
