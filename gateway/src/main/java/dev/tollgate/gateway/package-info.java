/**
 * The gateway: an OpenAI-compatible HTTP front for GPU inference pools that authenticates keys,
 * enforces quotas, routes, streams and meters every request into usage events.
 */
package dev.tollgate.gateway;
