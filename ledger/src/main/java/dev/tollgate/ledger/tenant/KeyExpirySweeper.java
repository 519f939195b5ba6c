package dev.tollgate.ledger.tenant;

import dev.tollgate.ledger.publish.ReadModel;
import dev.tollgate.schemas.state.KeyState;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.MetaData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.time.Instant;

/**
 * Turns keys past their {@code expiresAt} into {@code ledger.key.expired} events. The gateway also
 * refuses an expired key by its own clock, so the sweep's delay never lets a key live longer.
 */
@Component
public class KeyExpirySweeper {
    private static final Logger LOG = LoggerFactory.getLogger(KeyExpirySweeper.class);
    private static final int BATCH = 500;

    private final ReadModel readModel;
    private final CommandGateway commands;

    public KeyExpirySweeper(ReadModel readModel, CommandGateway commands) {
        this.readModel = readModel;
        this.commands = commands;
    }

    @Scheduled(fixedDelayString = "${tollgate.key-expiry-sweep:PT1M}")
    public void sweep() {
        for (KeyState key : readModel.overdueKeys(Instant.now(), BATCH)) {
            try {
                commands.sendAndWait(GenericCommandMessage.asCommandMessage(new TenantCommands.ExpireKey(key.tenantId(), key.keyId()))
                        .andMetaData(MetaData.with("actor", "system:key-expiry")));
            } catch (RuntimeException e) {
                LOG.warn("could not expire key {} of tenant {}: {}", key.keyId(), key.tenantId(), e.toString());
            }
        }
    }
}
