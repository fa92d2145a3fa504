# The reference stack: an app on ECS (Fargate) in the default VPC behind an
# internet-facing ALB, its ECR repository, a bucket for its assets and a
# DynamoDB table for its data. `image_tag` is what the pipeline changes on every
# push: a new task definition revision, and the service updated in place to it.
# The ALB answers 404 to every host it does not know; a listener rule sends
# `${var.name}.${var.domain}` to this app's tasks, so several projects (or
# preview branches) can share one ALB, each with its own rule and host name.

variable "name" {
  type    = string
  default = "dumcel-demo"
}

variable "image_tag" {
  type    = string
  default = "v1"
}

variable "domain" {
  type    = string
  default = "dumcel.test"
}

provider "aws" {
  default_tags {
    tags = {
      managed_by = "dumcel"
      stack      = var.name
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
  name        = "${var.name}-lb"
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
  name        = "${var.name}-app"
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
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  subnets            = data.aws_subnets.default.ids
  security_groups    = [aws_security_group.lb.id]
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  target_type          = "ip"
  deregistration_delay = 30

  health_check {
    path                = "/"
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
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

resource "aws_lb_listener_rule" "app" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 100

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }

  condition {
    host_header {
      values = ["${var.name}.${var.domain}"]
    }
  }
}

resource "aws_ecr_repository" "app" {
  name         = var.name
  scan_on_push = true
  force_delete = true
}

resource "aws_s3_bucket" "assets" {
  bucket        = "${var.name}-assets"
  force_destroy = true

  versioning {
    enabled = true
  }

  website {
    index_document = "index.html"
  }
}

resource "aws_s3_object" "index" {
  bucket       = aws_s3_bucket.assets.bucket
  key          = "index.html"
  content      = "<h1>${var.name}</h1>"
  content_type = "text/html"
}

resource "aws_dynamodb_table" "data" {
  name         = "${var.name}-data"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_ecs_cluster" "main" {
  name = var.name
}

resource "aws_ecs_task_definition" "app" {
  family                   = var.name
  cpu                      = "256"
  memory                   = "512"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([
    {
      name         = "app"
      image        = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
      essential    = true
      portMappings = [{ containerPort = 8080, protocol = "tcp" }]
      environment = [
        { name = "TABLE", value = aws_dynamodb_table.data.name },
        { name = "BUCKET", value = aws_s3_bucket.assets.bucket },
      ]
    }
  ])
}

resource "aws_ecs_service" "app" {
  name                              = "app"
  cluster                           = aws_ecs_cluster.main.arn
  task_definition                   = aws_ecs_task_definition.app.arn
  desired_count                     = 2
  launch_type                       = "FARGATE"
  wait_for_steady_state             = true
  health_check_grace_period_seconds = 60

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

  # ECS accepts a target group only once a listener (rule) sends traffic to it.
  depends_on = [aws_lb_listener_rule.app]
}

output "repository_url" {
  value = aws_ecr_repository.app.repository_url
}

output "task_definition" {
  value = aws_ecs_task_definition.app.arn
}

output "url" {
  value = "http://${var.name}.${var.domain}/"
}

output "lb_dns_name" {
  value = aws_lb.main.dns_name
}

output "website" {
  value = aws_s3_bucket.assets.website_endpoint
}
