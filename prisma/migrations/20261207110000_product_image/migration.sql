-- The product image the feedback request email shows next to each product
ALTER TABLE "products" ADD COLUMN "image_url" TEXT;
