/**
 * Pure billing logic shared by the billing projector and the audit replay: money in integer
 * micro-units, the one rounding rule, billing periods and the price schedule in force at a time.
 * No framework imports; every function is deterministic.
 */
package dev.tollgate.billing;
