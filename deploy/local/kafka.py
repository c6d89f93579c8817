"""Apache Kafka, one KRaft node (broker + controller), from Maven Central."""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from adapters.kafka_clients import KafkaSettings
from deploy.local.service import LocalService
from deploy.local.settings import LocalServicesSettings
from schemas.errors import ServiceError

_POM = Path(__file__).with_name("kafka-pom.xml")

LOG4J2 = """\
status = error
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log}
appender.file.filePattern = {log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class KafkaService(LocalService):
    name = "kafka"
    pom = _POM
    label = "Kafka"

    def __init__(self, home: Path, kafka: KafkaSettings, local: LocalServicesSettings) -> None:
        first = kafka.servers[0] if kafka.servers else ""
        parts = urlsplit(f"//{first}")
        if not parts.hostname or not parts.port:
            raise ServiceError(
                f"kafka.bootstrap_servers {kafka.bootstrap_servers!r} has no host:port to run a local broker on",
                hint="use the default 127.0.0.1:9092 for local services",
            )
        super().__init__(home, parts.hostname, parts.port)
        self.local = local
        self.kafka = kafka
        self.config = self.dir / "config" / "server.properties"
        self.log4j = self.dir / "config" / "log4j2.properties"
        self.data = self.dir / "data"

    @property
    def main_log(self) -> Path:
        return self.logs / "server.log"

    @property
    def maven_properties(self) -> dict[str, str]:
        return {"kafka.version": self.local.kafka_version}

    def prepare(self, java: str) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        controller = self.local.kafka_controller_port
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{self.host}:{controller}",
                    f"listeners=PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{controller}",
                    f"advertised.listeners=PLAINTEXT://{self.host}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data}",
                    "num.partitions=1",
                    "offsets.topic.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    # Tests create and join groups constantly; the default 3 s delay would slow each.
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        self.log4j.write_text(LOG4J2.format(log=self.main_log))
        if not (self.data / "meta.properties").exists():
            self._format(java)

    def _format(self, java: str) -> None:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.logs.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                java, "-cp", f"{self.lib}/*",
                f"-Dlog4j2.configurationFile={self.log4j}",
                # "=": a random id may start with "-", which the tool would read as an option.
                "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(self.config),
            ],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        (self.logs / "format.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise ServiceError(
                "formatting Kafka's KRaft storage failed",
                hint=f"read {self.logs / 'format.log'}; delete {self.data} to start from empty storage",
            )

    def command(self, java: str) -> list[str]:
        heap = self.local.kafka_heap
        return [
            java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j}", f"-Dkafka.logs.dir={self.logs}",
            "-cp", f"{self.lib}/*", "kafka.Kafka", str(self.config),
        ]  # fmt: skip

    def ready(self) -> bool:
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaConfigurationError, KafkaError

        logging.getLogger("kafka").setLevel(logging.CRITICAL)  # connection refusals while it starts
        try:
            admin = KafkaAdminClient(bootstrap_servers=f"{self.host}:{self.port}", request_timeout_ms=3000)
        except KafkaConfigurationError:
            raise  # our bug, not a broker that is still starting
        except (KafkaError, OSError):
            return False
        try:
            return bool(admin.describe_cluster().get("brokers"))
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()
