package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatenciesTest {

  @Test
  void nearestRankPercentiles() {
    Latencies l = new Latencies();
    for (int ms = 100; ms >= 1; ms--) {
      l.record(ms);
    }
    l.record(-1); // no answer timed: not a latency
    assertThat(l.percentiles()).isEqualTo(new Latencies.Percentiles(100, 50, 99, 100));
  }

  @Test
  void oneSlowAnswerInAHundredIsNotThe99thPercentileButTwoAre() {
    Latencies l = new Latencies();
    for (int i = 0; i < 99; i++) {
      l.record(10);
    }
    l.record(5000);
    assertThat(l.percentiles().p99()).isEqualTo(10);
    l.record(5000);
    assertThat(l.percentiles().p99()).isEqualTo(5000);
  }

  @Test
  void nothingRecordedHasNoPercentiles() {
    assertThat(new Latencies().percentiles()).isEqualTo(Latencies.Percentiles.NONE);
  }

  @Test
  void growsPastItsFirstArray() {
    Latencies l = new Latencies();
    for (int i = 0; i < 5000; i++) {
      l.record(i % 10);
    }
    assertThat(l.count()).isEqualTo(5000);
    assertThat(l.percentiles().max()).isEqualTo(9);
  }
}
