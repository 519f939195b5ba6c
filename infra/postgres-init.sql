CREATE DATABASE tollgate_ledger;
CREATE DATABASE tollgate_billing;
