# The reference stack: an app on ECS (Fargate) in the default VPC, its ECR
# repository, a bucket for its assets and a DynamoDB table for its data.
# `image_tag` is what the pipeline changes on every push: a new task definition
# revision, and the service updated in place to it.

variable "name" {
  type    = string
  default = "dumcel-demo"
}

variable "image_tag" {
  type    = string
  default = "v1"
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

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "HTTP to the app"
  vpc_id      = data.aws_vpc.default.id

  ingress {
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.default.cidr_block]
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
  name                  = "app"
  cluster               = aws_ecs_cluster.main.arn
  task_definition       = aws_ecs_task_definition.app.arn
  desired_count         = 2
  launch_type           = "FARGATE"
  wait_for_steady_state = true

  network_configuration {
    subnets          = data.aws_subnets.default.ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = true
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}

output "repository_url" {
  value = aws_ecr_repository.app.repository_url
}

output "task_definition" {
  value = aws_ecs_task_definition.app.arn
}

output "website" {
  value = aws_s3_bucket.assets.website_endpoint
}
