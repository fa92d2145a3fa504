# The stack the pipeline applies on every push to a repository that checks it
# in as deploy/stack.hcl, next to its app's Dockerfile (examples/app in the
# demo and the tests). The worker sets four variables: `image`
# (<registry>/<repository>:<commit SHA>, already pushed), `environment`
# (`production` for the default branch, `preview-<branch>` for others, each
# in its own workspace), `host` (the host name the environment is served
# on) and `rollout_timeout` (seconds).
#
# Every environment shares the ALB, its HTTPS listener, the wildcard
# certificate and the ECS cluster of the platform stack
# (../platform/stack.hcl, applied once, named by `platform`), found here
# with data sources. An environment adds only a target group, a rule for its
# host name on the shared listener, a security group for its tasks, a task
# definition and a service, all named `<project>-<environment>`: keep that
# within 29 characters (a target group name is at most 32).
# The ECR repository is the worker's, not the stack's: it exists before the
# first image is pushed.

variable "platform" {
  description = "The `name` of the platform stack this environment runs on"
  type        = string
  default     = "apps"
}

variable "project" {
  type    = string
  default = "shop"
}

variable "image" {
  type = string
}

variable "environment" {
  type    = string
  default = "production"
}

variable "host" {
  type    = string
  default = "shop.apps.test"
}

variable "rollout_timeout" {
  description = "Seconds the apply waits for the new task definition to roll out"
  type        = number
  default     = 300
}

locals {
  name = "${var.project}-${var.environment}"
}

provider "aws" {
  default_tags {
    tags = {
      managed_by  = "dumcel-pipeline"
      project     = var.project
      environment = var.environment
    }
  }
}

data "aws_lb" "platform" {
  name = var.platform
}

data "aws_lb_listener" "https" {
  load_balancer_arn = data.aws_lb.platform.arn
  port              = 443
}

data "aws_ecs_cluster" "platform" {
  cluster_name = var.platform
}

# The tasks take HTTP from the shared load balancer only.
resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "HTTP from the platform's load balancer to ${local.name}"
  vpc_id      = data.aws_lb.platform.vpc_id

  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = data.aws_lb.platform.security_groups
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb_target_group" "app" {
  name                 = "${local.name}-tg"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = data.aws_lb.platform.vpc_id
  target_type          = "ip"
  deregistration_delay = 30

  health_check {
    path    = "/"
    matcher = "200"
  }
}

# The environment's host name goes to its tasks. Without a priority the rule
# takes the next free one on the shared listener.
resource "aws_lb_listener_rule" "app" {
  listener_arn = data.aws_lb_listener.https.arn

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }

  condition {
    host_header {
      values = [var.host]
    }
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = local.name
  cpu                      = "256"
  memory                   = "512"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([
    {
      name         = "app"
      image        = var.image
      essential    = true
      portMappings = [{ containerPort = 8080, protocol = "tcp" }]
      environment  = [{ name = "ENVIRONMENT", value = var.environment }]
    }
  ])
}

# The apply is the rollout: it ends when ECS has rolled out this task
# definition with healthy targets, fails when the circuit breaker rolled it
# back or when rollout_timeout runs out (the worker then puts the last good
# image back).
resource "aws_ecs_service" "app" {
  name                  = local.name
  cluster               = data.aws_ecs_cluster.platform.arn
  task_definition       = aws_ecs_task_definition.app.arn
  desired_count         = 1
  launch_type           = "FARGATE"
  wait_for_steady_state = true

  # The default VPC's subnets are public: the tasks need a public address to
  # pull their image.
  network_configuration {
    subnets          = data.aws_lb.platform.subnets
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = true
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "app"
    container_port   = 8080
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  timeouts {
    create = "${var.rollout_timeout}s"
    update = "${var.rollout_timeout}s"
  }

  # ECS accepts a target group only once a listener rule sends traffic to it.
  depends_on = [aws_lb_listener_rule.app]
}

output "url" {
  value = "https://${var.host}/"
}
