package dev.tollgate.schemas.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.tollgate.schemas.credit.CreditGranted;
import dev.tollgate.schemas.credit.CreditSource;
import dev.tollgate.schemas.usage.Endpoint;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static dev.tollgate.schemas.event.Fields.listOrEmpty;
import static dev.tollgate.schemas.event.Fields.required;
import static dev.tollgate.schemas.event.Fields.requiredText;

/**
 * One credit grant of a tenant as readers need it (in {@link TenantState#credits()}): the
 * {@code ledger.credit.granted} event and, once voided, the void's time.
 *
 * @param endpoints  the APIs it pays for, all when empty (optional, added in v1: absent in states published before it)
 * @param reductions its partial refunds, oldest first: from each one's time on, the grant pays up to that amount (optional, added
 *                   in v1: absent when there is none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreditGrant(String grantId, @JsonProperty(required = true) long amountMicros, CreditSource source, Instant grantedAt,
                          Instant expiresAt, Instant voidedAt, @JsonProperty(required = true) int priority, List<String> models,
                          @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Endpoint> endpoints,
                          @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Reduction> reductions) {

    /** From {@code from} on, the grant pays up to {@code amountMicros} ({@code ledger.credit.reduced}). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Reduction(@JsonProperty(required = true) long amountMicros, Instant from) {
        public Reduction {
            required(from, "from");
        }
    }

    public CreditGrant {
        requiredText(grantId, "grantId");
        required(source, "source");
        required(grantedAt, "grantedAt");
        models = listOrEmpty(models);
        endpoints = listOrEmpty(endpoints);
        reductions = listOrEmpty(reductions);
    }

    /** A grant for every endpoint, never reduced. */
    public CreditGrant(String grantId, long amountMicros, CreditSource source, Instant grantedAt, Instant expiresAt, Instant voidedAt,
                       int priority, List<String> models) {
        this(grantId, amountMicros, source, grantedAt, expiresAt, voidedAt, priority, models, null, null);
    }

    /** A grant never reduced. */
    public CreditGrant(String grantId, long amountMicros, CreditSource source, Instant grantedAt, Instant expiresAt, Instant voidedAt,
                       int priority, List<String> models, List<Endpoint> endpoints) {
        this(grantId, amountMicros, source, grantedAt, expiresAt, voidedAt, priority, models, endpoints, null);
    }

    /** What the grant pays up to for usage at {@code time}: its amount, or that of the last reduction in force then. */
    public long amountAt(Instant time) {
        long amount = amountMicros;
        for (Reduction reduction : reductions) {
            if (!reduction.from().isAfter(time)) {
                amount = reduction.amountMicros();
            }
        }
        return amount;
    }

    /** The grant of {@code event}, not voided. */
    public static CreditGrant of(CreditGranted event) {
        return new CreditGrant(event.grantId(), event.amountMicros(), event.source(), event.grantedAt(), event.expiresAt(), null,
                event.priority(), event.models(), event.endpoints());
    }

    /** This grant voided at {@code at}. */
    public CreditGrant voidedAt(Instant at) {
        return new CreditGrant(grantId, amountMicros, source, grantedAt, expiresAt, at, priority, models, endpoints, reductions);
    }

    /** This grant reduced to {@code amount} from {@code from} on. */
    public CreditGrant reducedTo(long amount, Instant from) {
        var all = new ArrayList<>(reductions);
        all.add(new Reduction(amount, from));
        all.sort(Comparator.comparing(Reduction::from));
        return new CreditGrant(grantId, amountMicros, source, grantedAt, expiresAt, voidedAt, priority, models, endpoints, all);
    }
}
