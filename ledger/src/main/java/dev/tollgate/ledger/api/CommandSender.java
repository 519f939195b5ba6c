package dev.tollgate.ledger.api;

import dev.tollgate.service.security.Caller;
import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.MetaData;
import org.springframework.stereotype.Component;

/** Sends a command on behalf of a caller; the caller's subject becomes the events' {@code actor}. */
@Component
public class CommandSender {
    private final CommandGateway gateway;

    public CommandSender(CommandGateway gateway) {
        this.gateway = gateway;
    }

    public <R> R send(Caller caller, Object command) {
        return gateway.sendAndWait(GenericCommandMessage.asCommandMessage(command)
                .andMetaData(MetaData.with("actor", caller.subject())));
    }
}
