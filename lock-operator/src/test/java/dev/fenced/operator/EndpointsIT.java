package dev.fenced.operator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import org.junit.jupiter.api.Test;

/** Health and metrics endpoints the Deployment's probes and Prometheus use. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class EndpointsIT {

  @Test
  void healthAndMetricsAnswer() {
    given().get("/q/health/live").then().statusCode(200);
    given().get("/q/health/ready").then().statusCode(200);
    given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_"));
  }
}
