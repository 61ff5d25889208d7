package io.sparsemesh.tokenizer;

import io.sparsemesh.log.ParentProcessWatch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The tokenizer service: gRPC on 127.0.0.1:9082, health and Prometheus metrics over HTTP on 127.0.0.1:8082. */
@SpringBootApplication
public class TokenizerServiceApplication {

    public static void main(String[] args) {
        ParentProcessWatch.exitWithParent("tokenizer-service");
        SpringApplication.run(TokenizerServiceApplication.class, args);
    }
}
