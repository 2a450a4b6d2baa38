package dev.fenced.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class TallyOwnerTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void ownershipByPoll() throws Exception {
    var status =
        JSON.readTree(
            "{\"owned\":[{\"poll\":\"a\",\"token\":5},{\"poll\":\"e2e-1-fault\",\"token\":9}]}");
    assertThat(TallyOwner.ownedToken(status, "e2e-1-fault")).contains(9L);
    assertThat(TallyOwner.ownedToken(status, "other")).isEmpty();
  }

  @Test
  void ownershipByShardFollowsTheCrcOfThePollId() throws Exception {
    CRC32 crc = new CRC32();
    crc.update("e2e-1-fault".getBytes(StandardCharsets.UTF_8));
    int shard = (int) (crc.getValue() % 16);
    assertThat(TallyOwner.shardOf("e2e-1-fault", 16)).isEqualTo(shard);
    var owner =
        JSON.readTree(
            "{\"owned\":[{\"shard\":%d,\"lock\":\"tally:shard-%d-of-16\",\"token\":42}]}"
                .formatted(shard, shard));
    var other =
        JSON.readTree(
            "{\"owned\":[{\"shard\":%d,\"lock\":\"tally:shard-%d-of-16\",\"token\":43}]}"
                .formatted((shard + 1) % 16, (shard + 1) % 16));
    assertThat(TallyOwner.ownedToken(owner, "e2e-1-fault")).contains(42L);
    assertThat(TallyOwner.ownedToken(other, "e2e-1-fault")).isEmpty();
    assertThat(TallyOwner.ownedToken(JSON.readTree("{\"owned\":[]}"), "e2e-1-fault")).isEmpty();
  }
}
