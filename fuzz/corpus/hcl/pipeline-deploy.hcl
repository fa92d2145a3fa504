# The stack the pipeline applies on every push to a repository that checks it
# in as deploy/stack.hcl, next to its app's Dockerfile (examples/app in the
# demo and the tests). The worker
# sets three variables: `image` (<registry>/<repository>:<commit SHA>, already
# pushed), `environment` (`production` for the default branch,
# `preview-<branch>` for others, each in its own workspace) and `host` (the
# host name the environment is served on). Each environment gets its own ALB,
# target group and ECS service, named `<project>-<environment>`: keep that
# within 28 characters (ALB and target group names are at most 32).
# The ECR repository is the worker's, not the stack's: it exists before the
# first image is pushed.

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

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  vpc_id = data.aws_vpc.default.id
}

resource "aws_security_group" "lb" {
  name        = "${local.name}-lb"
  description = "HTTP from anywhere to the load balancer"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "app" {
  name        = "${local.name}-app"
  description = "HTTP from the load balancer to the app"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.lb.id]
  }
}

resource "aws_lb" "main" {
  name               = local.name
  load_balancer_type = "application"
  subnets            = data.aws_subnets.default.ids
  security_groups    = [aws_security_group.lb.id]
}

resource "aws_lb_target_group" "app" {
  name        = "${local.name}-tg"
  port        = 8080
  protocol    = "HTTP"
  vpc_id      = data.aws_vpc.default.id
  target_type = "ip"

  health_check {
    path    = "/"
    matcher = "200"
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "no app is served at this host name"
      status_code  = "404"
    }
  }
}

# The environment's host name goes to its tasks.
resource "aws_lb_listener_rule" "app" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 100

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

resource "aws_ecs_cluster" "main" {
  name = local.name
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

# The worker, not the apply, waits for the rollout: it judges the deployment
# of this task definition by its rolloutState and the targets' health.
resource "aws_ecs_service" "app" {
  name            = "app"
  cluster         = aws_ecs_cluster.main.arn
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 1
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = data.aws_subnets.default.ids
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

  depends_on = [aws_lb_listener_rule.app]
}

output "url" {
  value = "http://${var.host}/"
}
