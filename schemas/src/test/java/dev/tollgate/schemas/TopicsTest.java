package dev.tollgate.schemas;

import dev.tollgate.schemas.event.EventType;
import dev.tollgate.schemas.topic.TopicSpec;
import dev.tollgate.schemas.topic.Topics;
import org.junit.jupiter.api.Test;

import java.util.HashSet;

import static org.assertj.core.api.Assertions.assertThat;

class TopicsTest {

    @Test
    void topicNamesAreUniqueAndVersioned() {
        var names = new HashSet<String>();
        for (TopicSpec topic : Topics.all()) {
            assertThat(names.add(topic.name())).as("duplicate " + topic.name()).isTrue();
            assertThat(topic.name()).matches("[a-z]+(\\.[a-z]+)*\\.v[0-9]+");
        }
    }

    @Test
    void stateTopicsAreCompactedAndKeptForever() {
        for (TopicSpec topic : Topics.all()) {
            if (topic.name().contains(".state.")) {
                assertThat(topic.configs()).containsEntry("cleanup.policy", "compact").containsEntry("retention.ms", "-1");
            }
        }
    }

    @Test
    void billingSourcesAreNeverDeletedByRetention() {
        assertThat(Topics.USAGE.configs()).containsEntry("retention.ms", "-1");
        assertThat(Topics.LEDGER_EVENTS.configs()).containsEntry("retention.ms", "-1");
    }

    @Test
    void everyEventTypeGoesToACatalogTopic() {
        for (EventType type : EventType.values()) {
            assertThat(Topics.all()).contains(type.topic());
        }
    }

    @Test
    void minInsyncReplicasNeverExceedsWhatASmallClusterCanMeet() {
        assertThat(Topics.USAGE.configsFor(1)).containsEntry("min.insync.replicas", "1");
        assertThat(Topics.USAGE.configsFor(3)).containsEntry("min.insync.replicas", "2");
    }
}
