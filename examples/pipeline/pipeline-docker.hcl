# dumcel-pipeline's configuration for the Docker-host target, every service on
# loopback: images built and run on this machine's Docker engine, pushed to
# the local registry, served by the router (dev/services/router.sh) at
# http://<project>.localhost:8480/ and previews at
# http://<branch>--<project>.localhost:8480/. No AWS account: deployment
# records live in <work_dir>/deployments.sqlite3. Kafka (tansu) carries the
# pushes and events. `dumcel-pipeline check --config FILE` validates it.

target = "docker"

kafka {
  brokers      = "127.0.0.1:9092"
  group        = "dumcel-pipeline"
  push_topic   = "dumcel.push"
  events_topic = "dumcel.events"
  dlq_topic    = "dumcel.push.dlq"
  # The webhook signs every push it queues with this key, and workers refuse
  # anything else: export the same random key to both (openssl rand -hex 32).
  signing_key_env = "DUMCEL_PUSH_SIGNING_KEY"
}

webhook {
  listen     = "127.0.0.1:8088"
  secret_env = "DUMCEL_WEBHOOK_SECRET"
}

domain            = "localhost"
rollout_timeout   = "5m"
registry_endpoint = "127.0.0.1:5000"
work_dir          = ".dumcel-pipeline"

repository "octo/shop" {
  stack          = "deploy"
  default_branch = "main"
  previews       = true
  # A preview push that changes the stack is planned and waits until a
  # person approves it (on the dashboard, the API or `dumcel-pipeline approve`).
  trust_branch_stacks = false
}
