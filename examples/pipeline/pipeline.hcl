# dumcel-pipeline's configuration for a local run (dev/demo.sh): every
# service on loopback. `dumcel-pipeline check --config FILE` validates it.

kafka {
  brokers      = "127.0.0.1:9092"
  group        = "dumcel-pipeline"
  push_topic   = "dumcel.push"
  events_topic = "dumcel.events"
  dlq_topic    = "dumcel.push.dlq"
}

webhook {
  listen     = "127.0.0.1:8088"
  secret_env = "DUMCEL_WEBHOOK_SECRET"
}

domain            = "apps.test"
deployments_table = "dumcel-deployments"
rollout_timeout   = "5m"
# Images go to the local registry standing in for ECR's registry host; the
# ECR API (moto) still holds the repository and hands out the push token.
registry_endpoint = "127.0.0.1:5000"
work_dir          = ".dumcel-pipeline"

repository "octo/shop" {
  stack          = "deploy"
  default_branch = "main"
  previews       = true
  # GitHub's clone URL is replaced by a local bare repository in the demo.
  clone_url      = "/tmp/dumcel-demo/shop.git"
}
