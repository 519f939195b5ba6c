-- Axon Framework 4 JDBC storage engine tables, PostgreSQL flavour, as Axon's own
-- PostgresEventTableFactory and PostgresTokenTableFactory create them (payloads as bytea, never
-- large objects). Owned by Flyway so that the schema is versioned with the code.

CREATE TABLE domainevententry (
    globalindex         BIGSERIAL    NOT NULL,
    aggregateidentifier VARCHAR(255) NOT NULL,
    sequencenumber      BIGINT       NOT NULL,
    type                VARCHAR(255),
    eventidentifier     VARCHAR(255) NOT NULL,
    metadata            BYTEA,
    payload             BYTEA        NOT NULL,
    payloadrevision     VARCHAR(255),
    payloadtype         VARCHAR(255) NOT NULL,
    "timestamp"         VARCHAR(255) NOT NULL,
    PRIMARY KEY (globalindex),
    UNIQUE (aggregateidentifier, sequencenumber),
    UNIQUE (eventidentifier)
);

CREATE TABLE snapshotevententry (
    aggregateidentifier VARCHAR(255) NOT NULL,
    sequencenumber      BIGINT       NOT NULL,
    type                VARCHAR(255) NOT NULL,
    eventidentifier     VARCHAR(255) NOT NULL,
    metadata            BYTEA,
    payload             BYTEA        NOT NULL,
    payloadrevision     VARCHAR(255),
    payloadtype         VARCHAR(255) NOT NULL,
    "timestamp"         VARCHAR(255) NOT NULL,
    PRIMARY KEY (aggregateidentifier, sequencenumber),
    UNIQUE (eventidentifier)
);

-- Tracking tokens of the event processors, shared by every ledger replica.
CREATE TABLE tokenentry (
    processorname VARCHAR(255) NOT NULL,
    segment       INTEGER      NOT NULL,
    token         BYTEA,
    tokentype     VARCHAR(255),
    "timestamp"   VARCHAR(255),
    owner         VARCHAR(255),
    PRIMARY KEY (processorname, segment)
);
