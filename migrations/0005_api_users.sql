-- API users, roles and sign-in throttling.
--
-- api_users      users an admin creates besides the bootstrap admin (ADMIN_USERNAME / ADMIN_PASSWORD):
--                role 'admin' (everything) or 'user' (bound to one execution-upload user_id); the password
--                is kept only as an scrypt hash with its own salt and cost parameters (src/api/users.ts).
-- auth_failures  one row per failed sign-in (username as typed, client address), read by every API
--                process so the throttle holds however many processes serve the API; rows older than
--                the throttle window are deleted as new failures arrive.
-- tokens         gains the role and user_id the token was issued with.

-- Up Migration

CREATE TABLE api_users (
  username       text PRIMARY KEY,
  -- 'scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>'
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  role           text NOT NULL CHECK (role IN ('admin', 'user')),
  user_id        uuid,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'user') = (user_id IS NOT NULL))
);

CREATE TABLE auth_failures (
  id         bigserial PRIMARY KEY,
  username   text NOT NULL,
  address    text NOT NULL,
  failed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX auth_failures_username_idx ON auth_failures (username, failed_at DESC);
CREATE INDEX auth_failures_address_idx ON auth_failures (address, failed_at DESC);
CREATE INDEX auth_failures_failed_at_idx ON auth_failures (failed_at);

ALTER TABLE tokens
  ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'user')),
  ADD COLUMN user_id uuid;

CREATE INDEX tokens_subject_idx ON tokens (subject) WHERE revoked_at IS NULL;

-- Down Migration

DROP INDEX tokens_subject_idx;
ALTER TABLE tokens DROP COLUMN user_id, DROP COLUMN role;
DROP TABLE auth_failures;
DROP TABLE api_users;
