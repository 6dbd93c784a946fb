-- +goose Up
-- State the workspace keeps for the people using it rather than from
-- events: who is working which notice, who has signed in, and sign-ins in
-- progress. None of it is personal data about the children or adults in a
-- notice.

-- claims says which MASH worker is working a notice, so colleagues do not
-- triage the same incident twice.
CREATE TABLE claims (
    notification_id uuid        PRIMARY KEY,
    user_id         text        NOT NULL,
    user_name       text        NOT NULL,
    claimed_at      timestamptz NOT NULL
);

-- users remembers the name of everyone who has signed in, because events
-- carry only a user id and pages show a name.
CREATE TABLE users (
    user_id      text        PRIMARY KEY,
    name         text        NOT NULL,
    role         text        NOT NULL,
    organisation text        NOT NULL,
    last_seen_at timestamptz NOT NULL
);

-- sessions are server-side, so signing out ends a session at once; the
-- cookie holds a random token and only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash        bytea       PRIMARY KEY,
    user_id           text        NOT NULL,
    name              text        NOT NULL,
    role              text        NOT NULL,
    organisation      text        NOT NULL,
    organisation_name text        NOT NULL,
    csrf_token        text        NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- signins holds each OpenID Connect sign-in between the redirect to the
-- identity provider and its return: the state, the nonce and the PKCE
-- verifier, bound to the browser that started it.
CREATE TABLE signins (
    state        text        PRIMARY KEY,
    binding_hash bytea       NOT NULL,
    nonce        text        NOT NULL,
    verifier     text        NOT NULL,
    return_to    text        NOT NULL,
    expires_at   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE signins;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE claims;
