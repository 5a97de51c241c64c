-- Sessions by IP range, IPv4 and IPv6 alike: `ip_key` is the address as 16 bytes (an IPv4 address mapped
-- into IPv6, ::ffff:a.b.c.d), so one address is one key and a CIDR range of either family is one byte
-- range on one index. The engine writes it beside `ip`; rows from before this migration are filled by
-- the engine right after it runs (`sessions::backfill_ip_keys`), since SQL cannot parse addresses here.
ALTER TABLE sessions ADD COLUMN ip_key BLOB;
DROP INDEX sessions_unrevoked_by_ip;
CREATE INDEX sessions_unrevoked_by_ip_key ON sessions (ip_key) WHERE revoked_at IS NULL;
