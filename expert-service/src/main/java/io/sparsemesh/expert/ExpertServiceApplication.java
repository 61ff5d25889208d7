package io.sparsemesh.expert;

import io.sparsemesh.log.ParentProcessWatch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** One expert shard as a Spring Boot service: gRPC {@code Experts} on 9084, Actuator on 8084 by default. */
@SpringBootApplication
public class ExpertServiceApplication {

    public static void main(String[] args) {
        ParentProcessWatch.exitWithParent("expert-service");
        SpringApplication.run(ExpertServiceApplication.class, args);
    }
}
