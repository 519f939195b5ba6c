package dev.tollgate.console.usage;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

class BarChartTest {

    @Test
    void theScaleIsOneTwoOrFiveTimesAPowerOfTen() {
        assertThat(BarChart.niceCeiling(0)).isEqualTo(1);
        assertThat(BarChart.niceCeiling(7)).isEqualTo(10);
        assertThat(BarChart.niceCeiling(10)).isEqualTo(10);
        assertThat(BarChart.niceCeiling(11)).isEqualTo(20);
        assertThat(BarChart.niceCeiling(4_999)).isEqualTo(5_000);
        assertThat(BarChart.niceCeiling(5_001)).isEqualTo(10_000);
    }

    @Test
    void barsAreScaledToThePlotAndTitledForScreenReaders() {
        BarChart chart = BarChart.of(List.of(50L, 100L, 0L), v -> v, v -> "t" + v, v -> v + " tokens");
        assertThat(chart.maxLabel()).isEqualTo("100 tokens");
        assertThat(chart.bars()).hasSize(3);
        assertThat(chart.bars().get(1).height()).isEqualTo(BarChart.PLOT_BOTTOM - BarChart.PLOT_TOP);
        assertThat(chart.bars().get(0).height()).isEqualTo((BarChart.PLOT_BOTTOM - BarChart.PLOT_TOP) / 2.0);
        assertThat(chart.bars().get(2).height()).isZero();
        assertThat(chart.bars().get(0).title()).isEqualTo("t50: 50 tokens");
        assertThat(chart.bars().get(0).x()).isLessThan(chart.bars().get(1).x());
    }

    @Test
    void atMostAboutTwelveLabelsUnderManyBars() {
        BarChart chart = BarChart.of(LongStream.range(0, 60).boxed().toList(), v -> v, String::valueOf, String::valueOf);
        assertThat(chart.ticks()).hasSizeBetween(10, 12);
    }
}
