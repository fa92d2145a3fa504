# dumcel-pipeline's configuration for a local run: every service on
# loopback (dev/demo.sh writes one like it, with names of its own, through
# dev/pipeline/local.sh). `dumcel-pipeline check --config FILE` validates it.

# ECS behind an ALB, images in ECR, records in DynamoDB (all on moto here);
# pipeline-docker.hcl deploys to this machine's Docker engine instead.
target = "ecs"

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

# The IAM role each kind of environment's runs assume, from the worker's own
# credentials; without it they run with those credentials. A preview's role
# should be one that cannot touch production. A repository's own `roles`
# block overrides these, role by role.
# roles {
#   production = "arn:aws:iam::123456789012:role/deploy-production"
#   preview    = "arn:aws:iam::123456789012:role/deploy-preview"   # every preview environment
# }

repository "octo/shop" {
  stack          = "deploy"
  default_branch = "main"
  previews       = true
  # Without clone_url the push's own (https) URL is fetched; a local run
  # points it at the absolute path of a bare repository instead.
}
