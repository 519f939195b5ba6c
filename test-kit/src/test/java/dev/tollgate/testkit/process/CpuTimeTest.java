package dev.tollgate.testkit.process;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CpuTimeTest {

    @Test
    void aStatLineGivesUserPlusSystemTimeEvenWithParenthesesAndSpacesInTheName() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        String stat = "4242 (vert.x (loop) 1) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0";

        assertThat(CpuTime.ofStatLine(stat)).isCloseTo(3.25, within(1e-9));
    }

    @Test
    void thisProcessHasUsedSomeCpuAndAGoneOneNone() {
        assertThat(CpuTime.ofProcess(ProcessHandle.current().pid())).isPositive();
        assertThat(CpuTime.ofProcess(Long.MAX_VALUE)).isZero();
    }
}
