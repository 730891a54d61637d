-- Named Snowflake credentials (the cache's equivalent of Snowflake's CREATE SECRET) and every kind of
-- credential for the per-user configurations of the execution upload.
--
-- snowflake_credentials     one row per named credential; cache sources name it in credentials_ref
--                           (checked by a trigger, so a credential in use cannot vanish under a source).
--                           secret_encrypted: the secret (password, private key + passphrase, or token)
--                           as JSON, AES-256-GCM under FLOE_ENCRYPTION_KEY (src/secrets/crypto.ts), bound
--                           to ('snowflake_credentials', name, authenticator). Never returned by the API;
--                           public_key_fingerprint / token_last4 are what may be shown.
-- snowflake_configurations  password_encrypted becomes secret_encrypted (same JSON form, bound to
--                           ('snowflake_configurations', user_id, authenticator); v1 values written by
--                           0003's code stay readable until `npm run rotate-key` rewrites them), plus
--                           the authenticator and the shown hints.

-- Up Migration

CREATE TABLE snowflake_credentials (
  name                    text PRIMARY KEY CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$' AND name <> 'default'),
  account                 text NOT NULL,
  username                text NOT NULL,
  authenticator           text NOT NULL CHECK (authenticator IN ('SNOWFLAKE', 'SNOWFLAKE_JWT', 'PROGRAMMATIC_ACCESS_TOKEN', 'OAUTH')),
  secret_encrypted        text NOT NULL CHECK (secret_encrypted LIKE 'v2.%'),
  public_key_fingerprint  text,
  token_last4             text,
  role                    text,
  warehouse               text,
  database                text,
  schema                  text,
  -- Base URL of the Snowflake endpoint (tests: the emulator); NULL = Snowflake's own host for the account.
  access_url              text,
  created_at              timestamptz NOT NULL DEFAULT now(),
  rotated_at              timestamptz
);

-- A cache source names 'default' (floe's own connection) or a stored credential. The trigger takes a
-- KEY SHARE lock on the credential, so a concurrent DELETE (which locks the row FOR UPDATE, then looks
-- for sources using it) either waits and then sees the new source, or wins and the source is refused.
CREATE FUNCTION cache_sources_check_credentials() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.credentials_ref <> 'default' THEN
    PERFORM 1 FROM snowflake_credentials WHERE name = NEW.credentials_ref FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'no credential named % (credentials_ref of cache source %)', NEW.credentials_ref, NEW.source_name
        USING ERRCODE = 'foreign_key_violation';
    END IF;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER cache_sources_check_credentials
  BEFORE INSERT OR UPDATE OF credentials_ref ON cache_sources
  FOR EACH ROW EXECUTE FUNCTION cache_sources_check_credentials();

ALTER TABLE snowflake_configurations DROP CONSTRAINT snowflake_configurations_password_encrypted_check;
ALTER TABLE snowflake_configurations RENAME COLUMN password_encrypted TO secret_encrypted;
ALTER TABLE snowflake_configurations
  ADD CONSTRAINT snowflake_configurations_secret_encrypted_check CHECK (secret_encrypted ~ '^v[12]\.'),
  ADD COLUMN authenticator text NOT NULL DEFAULT 'SNOWFLAKE'
    CHECK (authenticator IN ('SNOWFLAKE', 'SNOWFLAKE_JWT', 'PROGRAMMATIC_ACCESS_TOKEN', 'OAUTH')),
  ADD COLUMN public_key_fingerprint text,
  ADD COLUMN token_last4 text;

-- Down Migration

ALTER TABLE snowflake_configurations DROP COLUMN token_last4, DROP COLUMN public_key_fingerprint, DROP COLUMN authenticator,
  DROP CONSTRAINT snowflake_configurations_secret_encrypted_check;
ALTER TABLE snowflake_configurations RENAME COLUMN secret_encrypted TO password_encrypted;
ALTER TABLE snowflake_configurations ADD CONSTRAINT snowflake_configurations_password_encrypted_check CHECK (password_encrypted LIKE 'v1.%') NOT VALID;
DROP TRIGGER cache_sources_check_credentials ON cache_sources;
DROP FUNCTION cache_sources_check_credentials();
DROP TABLE snowflake_credentials;
