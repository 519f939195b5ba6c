package dev.tollgate.console.usage;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * The geometry of an SVG bar chart, computed here so that the page needs no script and no chart
 * library: bars scaled to a rounded maximum (1, 2 or 5 times a power of ten), a label under every
 * {@code labelEvery}-th bar, and a text alternative per bar for screen readers and tooltips.
 */
public record BarChart(int width, int height, List<Bar> bars, String maxLabel, List<Tick> ticks) {
    static final int WIDTH = 720;
    static final int HEIGHT = 180;
    static final int PLOT_TOP = 20;
    static final int PLOT_BOTTOM = 150;
    static final int PLOT_LEFT = 56;

    public record Bar(double x, double y, double width, double height, String title) {}

    public record Tick(double x, String label) {}

    public static <T> BarChart of(List<T> points, ToLongFunction<T> value, Function<T, String> label, Function<Long, String> format) {
        long max = 0;
        for (T point : points) {
            max = Math.max(max, value.applyAsLong(point));
        }
        long top = niceCeiling(max);
        double plotWidth = WIDTH - PLOT_LEFT - 4;
        double slot = points.isEmpty() ? plotWidth : plotWidth / points.size();
        double barWidth = Math.max(1, slot * 0.8);
        int labelEvery = Math.max(1, (int) Math.ceil(points.size() / 12.0));
        var bars = new ArrayList<Bar>(points.size());
        var ticks = new ArrayList<Tick>();
        for (int i = 0; i < points.size(); i++) {
            T point = points.get(i);
            long v = value.applyAsLong(point);
            double h = (PLOT_BOTTOM - PLOT_TOP) * (double) v / top;
            double x = PLOT_LEFT + i * slot + (slot - barWidth) / 2;
            bars.add(new Bar(round(x), round(PLOT_BOTTOM - h), round(barWidth), round(h), label.apply(point) + ": " + format.apply(v)));
            if (i % labelEvery == 0) {
                ticks.add(new Tick(round(x + barWidth / 2), label.apply(point)));
            }
        }
        return new BarChart(WIDTH, HEIGHT, bars, format.apply(top), ticks);
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above {@code max} (1 for nothing at all). */
    static long niceCeiling(long max) {
        if (max <= 1) {
            return 1;
        }
        long power = 1;
        while (power <= max / 10) {
            power *= 10;
        }
        for (long step : new long[] {1, 2, 5, 10}) {
            if (step * power >= max) {
                return step * power;
            }
        }
        return 10 * power;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
