package dev.tollgate.schemas.event;

import dev.tollgate.schemas.credit.BillingModeCleared;
import dev.tollgate.schemas.credit.BillingModeSet;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditReduced;
import dev.tollgate.schemas.credit.CreditVoided;
import dev.tollgate.schemas.ledger.KeyExpired;
import dev.tollgate.schemas.ledger.KeyIssued;
import dev.tollgate.schemas.ledger.KeyRevoked;
import dev.tollgate.schemas.ledger.KeyRotated;
import dev.tollgate.schemas.ledger.LimitsSet;
import dev.tollgate.schemas.ledger.PlanAssigned;
import dev.tollgate.schemas.ledger.PlanDefined;
import dev.tollgate.schemas.ledger.PriceListPublished;
import dev.tollgate.schemas.ledger.TenantCreated;
import dev.tollgate.schemas.ledger.TenantReinstated;
import dev.tollgate.schemas.ledger.TenantSuspended;
import dev.tollgate.schemas.ledger.WebhookConfigured;
import dev.tollgate.schemas.payment.AutoTopUpFailed;
import dev.tollgate.schemas.payment.PaymentRefunded;
import dev.tollgate.schemas.payment.PaymentSucceeded;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.quota.QuotaThresholdCrossed;
import dev.tollgate.schemas.topic.Topics;
import dev.tollgate.schemas.usage.RequestAccepted;
import dev.tollgate.schemas.usage.RequestFinished;
import dev.tollgate.schemas.usage.RequestRejected;
import dev.tollgate.schemas.usage.TokensStreamed;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every event type: its CloudEvents {@code type} (domain, name and major version), the Java
 * record of its {@code data}, its JSON Schema and its topic. A breaking change gets a new
 * constant with {@code .v2}; the v1 constant stays so that old events still parse.
 */
public enum EventType {
    USAGE_REQUEST_ACCEPTED("usage.request.accepted", RequestAccepted.class, "request-accepted", Topics.USAGE),
    USAGE_TOKENS_STREAMED("usage.tokens.streamed", TokensStreamed.class, "tokens-streamed", Topics.USAGE),
    USAGE_REQUEST_COMPLETED("usage.request.completed", RequestFinished.class, "request-finished", Topics.USAGE),
    USAGE_REQUEST_FAILED("usage.request.failed", RequestFinished.class, "request-finished", Topics.USAGE),
    USAGE_REQUEST_CANCELLED("usage.request.cancelled", RequestFinished.class, "request-finished", Topics.USAGE),
    USAGE_REQUEST_REJECTED("usage.request.rejected", RequestRejected.class, "request-rejected", Topics.USAGE),

    LEDGER_TENANT_CREATED("ledger.tenant.created", TenantCreated.class, "tenant-created", Topics.LEDGER_EVENTS),
    LEDGER_TENANT_SUSPENDED("ledger.tenant.suspended", TenantSuspended.class, "tenant-suspended", Topics.LEDGER_EVENTS),
    LEDGER_TENANT_REINSTATED("ledger.tenant.reinstated", TenantReinstated.class, "tenant-reinstated", Topics.LEDGER_EVENTS),
    LEDGER_PLAN_DEFINED("ledger.plan.defined", PlanDefined.class, "plan-defined", Topics.LEDGER_EVENTS),
    LEDGER_PLAN_ASSIGNED("ledger.plan.assigned", PlanAssigned.class, "plan-assigned", Topics.LEDGER_EVENTS),
    LEDGER_PRICELIST_PUBLISHED("ledger.pricelist.published", PriceListPublished.class, "pricelist-published", Topics.LEDGER_EVENTS),
    LEDGER_LIMITS_SET("ledger.limits.set", LimitsSet.class, "limits-set", Topics.LEDGER_EVENTS),
    LEDGER_KEY_ISSUED("ledger.key.issued", KeyIssued.class, "key-issued", Topics.LEDGER_EVENTS),
    LEDGER_KEY_ROTATED("ledger.key.rotated", KeyRotated.class, "key-rotated", Topics.LEDGER_EVENTS),
    LEDGER_KEY_REVOKED("ledger.key.revoked", KeyRevoked.class, "key-revoked", Topics.LEDGER_EVENTS),
    LEDGER_KEY_EXPIRED("ledger.key.expired", KeyExpired.class, "key-expired", Topics.LEDGER_EVENTS),
    LEDGER_WEBHOOK_CONFIGURED("ledger.webhook.configured", WebhookConfigured.class, "webhook-configured", Topics.LEDGER_EVENTS),
    LEDGER_CREDIT_GRANTED("ledger.credit.granted", CreditGranted.class, "credit-granted", Topics.LEDGER_EVENTS),
    LEDGER_CREDIT_VOIDED("ledger.credit.voided", CreditVoided.class, "credit-voided", Topics.LEDGER_EVENTS),
    LEDGER_CREDIT_REDUCED("ledger.credit.reduced", CreditReduced.class, "credit-reduced", Topics.LEDGER_EVENTS),
    LEDGER_BILLINGMODE_SET("ledger.billingmode.set", BillingModeSet.class, "billingmode-set", Topics.LEDGER_EVENTS),
    LEDGER_BILLINGMODE_CLEARED("ledger.billingmode.cleared", BillingModeCleared.class, "billingmode-cleared", Topics.LEDGER_EVENTS),

    BILLING_PAYMENT_SUCCEEDED("billing.payment.succeeded", PaymentSucceeded.class, "payment-succeeded", Topics.PAYMENTS),
    BILLING_PAYMENT_REFUNDED("billing.payment.refunded", PaymentRefunded.class, "payment-refunded", Topics.PAYMENTS),
    BILLING_AUTOTOPUP_FAILED("billing.autotopup.failed", AutoTopUpFailed.class, "autotopup-failed", Topics.PAYMENTS),

    QUOTA_THRESHOLD_CROSSED("quota.threshold.crossed", QuotaThresholdCrossed.class, "quota-threshold-crossed", Topics.QUOTA_ALERTS);

    /** Prefix of every type name (reverse DNS, as CloudEvents recommends). */
    public static final String TYPE_PREFIX = "dev.tollgate.";

    private static final Map<String, EventType> BY_TYPE_NAME = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(EventType::typeName, Function.identity()));

    private final String typeName;
    private final Class<? extends EventData> dataClass;
    private final String schemaName;
    private final TopicSpec topic;

    EventType(String name, Class<? extends EventData> dataClass, String schemaName, TopicSpec topic) {
        this.typeName = TYPE_PREFIX + name + ".v1";
        this.dataClass = dataClass;
        this.schemaName = schemaName;
        this.topic = topic;
    }

    /** The CloudEvents {@code type}, e.g. {@code dev.tollgate.usage.request.completed.v1}. */
    public String typeName() {
        return typeName;
    }

    /** The record that {@code data} deserializes to. */
    public Class<? extends EventData> dataClass() {
        return dataClass;
    }

    /** Classpath resource of the JSON Schema (draft 2020-12) of {@code data}. */
    public String dataSchemaResource() {
        return "/schemas/v1/data/" + schemaName + ".schema.json";
    }

    /** The topic events of this type are published to. */
    public TopicSpec topic() {
        return topic;
    }

    /** The constant whose {@link #typeName()} is {@code typeName}. */
    public static EventType fromTypeName(String typeName) {
        EventType type = BY_TYPE_NAME.get(typeName);
        if (type == null) {
            throw new IllegalArgumentException("unknown event type '" + typeName + "'");
        }
        return type;
    }

    /** True if {@code typeName} is a known type (a reader may skip unknown types from newer producers). */
    public static boolean isKnown(String typeName) {
        return BY_TYPE_NAME.containsKey(typeName);
    }
}
